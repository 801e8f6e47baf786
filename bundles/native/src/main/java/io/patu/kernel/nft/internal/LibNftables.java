package io.patu.kernel.nft.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.patu.kernel.internal.Downcalls;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to the libnftables functions Patu uses (Debian {@code libnftables1}, nftables/libnftables.h of
 * 1.0.x), one lazily initialised holder per function. The library is looked up on first use only, so a
 * machine without it fails where nftables is needed, with the loader's message, and nowhere else.
 */
public final class LibNftables {
    /** {@code NFT_CTX_DEFAULT}: a context for the caller's network namespace, no extra flags. */
    public static final int NFT_CTX_DEFAULT = 0;

    private LibNftables() {
    }

    private static final class Library {
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup("libnftables.so.1", Arena.global());
    }

    private static final class nft_ctx_new {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_new",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }
    /** {@code nft_ctx_new}; NULL on failure. */
    public static MemorySegment nftCtxNew(int flags) {
        try {
            return (MemorySegment) nft_ctx_new.HANDLE.invokeExact(flags);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_ctx_free {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_free",
                FunctionDescriptor.ofVoid(ADDRESS));
    }
    /** {@code nft_ctx_free}. */
    public static void nftCtxFree(MemorySegment ctx) {
        try {
            nft_ctx_free.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_ctx_buffer_output {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_buffer_output",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code nft_ctx_buffer_output}: output goes to a buffer instead of the process's stdout; 0 on success. */
    public static int nftCtxBufferOutput(MemorySegment ctx) {
        try {
            return (int) nft_ctx_buffer_output.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_ctx_buffer_error {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_buffer_error",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code nft_ctx_buffer_error}: error messages go to a buffer instead of stderr; 0 on success. */
    public static int nftCtxBufferError(MemorySegment ctx) {
        try {
            return (int) nft_ctx_buffer_error.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_ctx_get_output_buffer {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_get_output_buffer",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code nft_ctx_get_output_buffer}: what was written since the last call (the buffer is then reset). */
    public static MemorySegment nftCtxGetOutputBuffer(MemorySegment ctx) {
        try {
            return (MemorySegment) nft_ctx_get_output_buffer.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_ctx_get_error_buffer {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_ctx_get_error_buffer",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code nft_ctx_get_error_buffer}: errors written since the last call (the buffer is then reset). */
    public static MemorySegment nftCtxGetErrorBuffer(MemorySegment ctx) {
        try {
            return (MemorySegment) nft_ctx_get_error_buffer.HANDLE.invokeExact(ctx);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class nft_run_cmd_from_buffer {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "nft_run_cmd_from_buffer",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code nft_run_cmd_from_buffer}: 0 when every command succeeded, else non-zero with errors buffered. */
    public static int nftRunCmdFromBuffer(MemorySegment ctx, MemorySegment commands) {
        try {
            return (int) nft_run_cmd_from_buffer.HANDLE.invokeExact(ctx, commands);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
