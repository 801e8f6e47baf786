package io.patu.kernel;

import io.patu.kernel.bpf.internal.LibBpf;
import io.patu.kernel.internal.Libc;

/** The errno values callers of the native layer branch on, and their text. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ENOTSUP = 95;

    private static final int LIBBPF_ERRNO_FIRST = 4000;
    private static final int LIBBPF_ERRNO_LAST = 4100;

    private Errno() {
    }

    /** The C library's text for {@code errno} (strerror), e.g. "Device or resource busy". */
    public static String describe(int errno) {
        if (errno >= LIBBPF_ERRNO_FIRST && errno < LIBBPF_ERRNO_LAST) {
            // libbpf extends errno with codes of its own (bad ELF, relocation failure...) that libc cannot name.
            String text = LibBpf.strerror(errno);
            if (text != null) {
                return text;
            }
        }
        return Libc.strerror(errno);
    }
}
