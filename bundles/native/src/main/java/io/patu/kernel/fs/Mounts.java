package io.patu.kernel.fs;

import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Libc;
import java.nio.file.Path;

/** mount(2), umount2(2) and the statfs(2) check that tells what is mounted where. */
public final class Mounts {
    /** MNT_DETACH for {@link #umount}: detach now, clean up once the mount is no longer busy. */
    public static final int MNT_DETACH = 2;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_SHARED = 1 << 20;

    private Mounts() {
    }

    /**
     * Whether {@code path} lies on a file system with the given magic number (statfs f_type).
     * False if the path does not exist.
     */
    public static boolean isFsType(Path path, long magic) {
        try {
            return Libc.statfsType(path.toString()) == magic;
        } catch (NativeException e) {
            return false;
        }
    }

    /** mount(2); {@code source} and {@code data} may be null. */
    public static void mount(String source, Path target, String fsType, long flags, String data) {
        Libc.mount(source, target.toString(), fsType, flags, data);
    }

    /** umount2(2). */
    public static void umount(Path target, int flags) {
        Libc.umount2(target.toString(), flags);
    }
}
