package io.patu.kernel.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * What every native binding of this bundle shares: the linker, symbol resolution and the errno
 * capture. errno has to be captured by the linker itself: by the time Java code runs after a
 * downcall the JVM may have made other libc calls on this thread that overwrote it.
 */
public final class Downcalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private Downcalls() {
    }

    /** libc, as already loaded into the JVM. */
    public static SymbolLookup libc() {
        return LINKER.defaultLookup();
    }

    /** A downcall without errno capture. */
    public static MethodHandle downcall(SymbolLookup lookup, String name, FunctionDescriptor descriptor,
            Linker.Option... options) {
        MemorySegment symbol = lookup.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("native symbol not found: " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /**
     * A downcall whose first Java parameter is a call-state segment (see {@link #callState}) that
     * receives errno right after the native function returns.
     */
    public static MethodHandle downcallWithErrno(SymbolLookup lookup, String name, FunctionDescriptor descriptor,
            Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return downcall(lookup, name, descriptor, all);
    }

    /** Room for the captured errno, living as long as {@code arena}. */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** The errno captured into {@code callState} by the last downcall that used it. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** Reads a NUL-terminated string a native function returned; null for NULL. */
    public static String string(MemorySegment cString) {
        return cString.equals(MemorySegment.NULL) ? null : cString.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /**
     * invokeExact declares Throwable; a downcall itself throws nothing checked, so whatever arrives
     * here is a linkage or programming error and is passed on unchanged.
     */
    public static RuntimeException rethrow(Throwable failure) {
        if (failure instanceof RuntimeException runtime) {
            return runtime;
        }
        if (failure instanceof Error error) {
            throw error;
        }
        return new IllegalStateException("native call failed", failure);
    }
}
