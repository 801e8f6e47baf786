package io.patu.launcher;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Replaces this process with another program ({@code execv}), as a shell's {@code exec} does. The JVM has no
 * API for it, hence libc through FFM; the launcher runs outside the framework, so it calls libc itself rather
 * than through the native bundle.
 */
final class Relaunch {
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int SIG_SETMASK = 2;
    /** glibc's sigset_t: 1024 bits. */
    private static final long SIGSET_BYTES = 128;

    private Relaunch() {
    }

    /** Returns only when execv failed. */
    static void exec(String program, String... argv) throws Throwable {
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MethodHandle execv = linker.downcallHandle(linker.defaultLookup().find("execv").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), errno);
        MethodHandle fcntl = linker.downcallHandle(linker.defaultLookup().find("fcntl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
        MethodHandle sigprocmask = linker.downcallHandle(linker.defaultLookup().find("sigprocmask").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(program);
            MemorySegment args = arena.allocate(ADDRESS, argv.length + 1L);
            for (int i = 0; i < argv.length; i++) {
                args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv[i]));
            }
            args.setAtIndex(ADDRESS, argv.length, MemorySegment.NULL);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            // The JVM opens files, jars and sockets without close-on-exec (its own process spawning closes
            // them in the child): without this the next agent would inherit them all, at every restart.
            // (A descriptor closed since the listing, the listing's own, just fails: nothing to mark.)
            for (int fd : openDescriptors()) {
                if (fd > 2) {
                    int unused = (int) fcntl.invokeExact(fd, F_SETFD, FD_CLOEXEC);
                }
            }
            // The signal mask survives execv, and the JVM blocks some signals in its threads: the next agent
            // starts with none blocked, as from a shell. Should this fail, execv is tried all the same.
            int unused = (int) sigprocmask.invokeExact(SIG_SETMASK, arena.allocate(SIGSET_BYTES), MemorySegment.NULL);
            System.out.flush();
            System.err.flush();
            int rc = (int) execv.invokeExact(state, path, args);
            VarHandle errnoHandle = Linker.Option.captureStateLayout().varHandle(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
            throw new IOException("execv " + program + " failed (rc " + rc + ", errno " + (int) errnoHandle.get(state, 0L) + ")");
        }
    }

    private static List<Integer> openDescriptors() throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : entries) {
                fds.add(Integer.parseInt(entry.getFileName().toString()));
            }
        }
        return fds;
    }
}
