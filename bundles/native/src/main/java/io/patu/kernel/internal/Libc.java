package io.patu.kernel.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.patu.kernel.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The libc calls Patu needs, each behind its own lazily initialised holder (a missing symbol only
 * breaks the feature that uses it). Failures (-1) become {@link NativeException} with the captured
 * errno; the operation name carries the path or descriptor so messages point at the culprit.
 */
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 01;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;

    public static final int CLONE_NEWNET = 0x40000000;
    /** Same bit as O_CLOEXEC on Linux; every descriptor Patu opens must not leak into child processes. */
    public static final int SOCK_CLOEXEC = O_CLOEXEC;

    private Libc() {
    }

    private static final class strerror {
        static final MethodHandle HANDLE = Downcalls.downcall(Downcalls.libc(), "strerror",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    private static final class open {
        // open(2) is variadic; the mode is always passed so one descriptor fits every call.
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }

    private static final class close {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "close",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class ioctl {
        // ioctl(2) is variadic; requests without an argument get a 0 the kernel ignores.
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "ioctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    }

    private static final class setns {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "setns",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class unshare {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "unshare",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private static final class mount {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "mount",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    }

    private static final class umount2 {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "umount2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class statfs {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "statfs",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    private static final class mkdir {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "mkdir",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class rmdir {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "rmdir",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    private static final class unlink {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "unlink",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    private static final class write {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "write",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    private static final class socket {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "socket",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private static final class bind {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "bind",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class setsockopt {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "setsockopt",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private static final class read {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "read",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    private static final class send {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "send",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    private static final class recv {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Downcalls.libc(), "recv",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** strerror(3); glibc returns static text for known values, so no copy races. */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) strerror.HANDLE.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "errno " + errno : text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** open(2); returns the descriptor. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            int fd = (int) open.HANDLE.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, mode);
            return checked(fd, state, "open(" + path + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** close(2); errors are reported, though the descriptor is gone either way. */
    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) close.HANDLE.invokeExact(state, fd), state, "close(" + fd + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** close(2) for cleanup paths, where a second failure must not hide the first. */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                close(fd);
            } catch (NativeException ignored) {
                // nothing useful to do: the descriptor is released by the kernel regardless
            }
        }
    }

    /** ioctl(2) with an integer argument; returns the ioctl's result. */
    public static int ioctl(int fd, long request, long argument, String operation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            return checked((int) ioctl.HANDLE.invokeExact(state, fd, request, argument), state, operation);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** setns(2) for the calling thread. */
    public static void setns(int fd, int nsType) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) setns.HANDLE.invokeExact(state, fd, nsType), state, "setns");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** unshare(2) for the calling thread. */
    public static void unshare(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) unshare.HANDLE.invokeExact(state, flags), state, "unshare");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** mount(2); {@code source}, {@code fsType} and {@code data} may be null. */
    public static void mount(String source, String target, String fsType, long flags, String data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            int rc = (int) mount.HANDLE.invokeExact(state, cString(arena, source), arena.allocateFrom(target),
                    cString(arena, fsType), flags, cString(arena, data));
            checked(rc, state, "mount(" + target + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** umount2(2). */
    public static void umount2(String target, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) umount2.HANDLE.invokeExact(state, arena.allocateFrom(target), flags), state,
                    "umount(" + target + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** statfs(2), reduced to the one field Patu reads: f_type, the file system's magic number. */
    public static long statfsType(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            // struct statfs is 120 bytes on x86_64 and aarch64; f_type is its first member.
            MemorySegment buf = arena.allocate(128, 8);
            checked((int) statfs.HANDLE.invokeExact(state, arena.allocateFrom(path), buf), state,
                    "statfs(" + path + ")");
            return buf.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** mkdir(2). */
    public static void mkdir(String path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) mkdir.HANDLE.invokeExact(state, arena.allocateFrom(path), mode), state,
                    "mkdir(" + path + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** rmdir(2). */
    public static void rmdir(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) rmdir.HANDLE.invokeExact(state, arena.allocateFrom(path)), state, "rmdir(" + path + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** unlink(2). */
    public static void unlink(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) unlink.HANDLE.invokeExact(state, arena.allocateFrom(path)), state,
                    "unlink(" + path + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Writes {@code text} to an existing file with one write(2), as control files (cgroup.procs)
     * require: they act on each write call, and report errors from it rather than from close.
     */
    public static void writeFile(String path, String text) {
        int fd = open(path, O_WRONLY, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            MemorySegment buf = arena.allocate(bytes.length);
            buf.copyFrom(MemorySegment.ofArray(bytes));
            long written = (long) write.HANDLE.invokeExact(state, fd, buf, (long) bytes.length);
            if (written < 0) {
                throw new NativeException("write(" + path + ")", Downcalls.errno(state), null);
            }
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        } finally {
            closeQuietly(fd);
        }
    }

    /** socket(2); the descriptor is created close-on-exec. */
    public static int socket(int domain, int type, int protocol) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            return checked((int) socket.HANDLE.invokeExact(state, domain, type | SOCK_CLOEXEC, protocol), state,
                    "socket");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** bind(2) to an address already laid out in native memory. */
    public static void bind(int fd, MemorySegment address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            checked((int) bind.HANDLE.invokeExact(state, fd, address, (int) address.byteSize()), state, "bind");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** setsockopt(2) with an int value. */
    public static void setsockoptInt(int fd, int level, int option, int value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            MemorySegment buf = arena.allocateFrom(JAVA_INT, value);
            checked((int) setsockopt.HANDLE.invokeExact(state, fd, level, option, buf, 4), state,
                    "setsockopt(" + option + ")");
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** read(2) into {@code buf}; returns the byte count, 0 at end of file. */
    public static long read(int fd, MemorySegment buf, String operation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            long count = (long) read.HANDLE.invokeExact(state, fd, buf, buf.byteSize());
            if (count < 0) {
                throw new NativeException(operation, Downcalls.errno(state), "read");
            }
            return count;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** send(2) of a whole buffer; returns bytes sent. */
    public static long send(int fd, MemorySegment buf, String operation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            long sent = (long) send.HANDLE.invokeExact(state, fd, buf, buf.byteSize(), 0);
            if (sent < 0) {
                throw new NativeException(operation, Downcalls.errno(state), "send");
            }
            return sent;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** recv(2) into {@code buf}; returns the byte count (with MSG_TRUNC: the real datagram size). */
    public static long recv(int fd, MemorySegment buf, int flags, String operation) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Downcalls.callState(arena);
            long received = (long) recv.HANDLE.invokeExact(state, fd, buf, buf.byteSize(), flags);
            if (received < 0) {
                throw new NativeException(operation, Downcalls.errno(state), "recv");
            }
            return received;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static MemorySegment cString(Arena arena, String value) {
        return value == null ? MemorySegment.NULL : arena.allocateFrom(value);
    }

    private static int checked(int rc, MemorySegment state, String operation) {
        if (rc == -1) {
            throw new NativeException(operation, Downcalls.errno(state), null);
        }
        return rc;
    }
}
