package io.patu.kernel.bpf;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.fs.Mounts;
import io.patu.kernel.internal.Libc;
import java.nio.file.Path;

/**
 * The BPF file system, where maps and links are pinned so they outlive the agent process. Not
 * mounted at boot on the machines Patu targets, so the agent mounts it itself.
 */
public final class Bpffs {
    /** BPF_FS_MAGIC. */
    public static final long MAGIC = 0xcafe4a11L;
    /** The conventional mount point. */
    public static final Path DEFAULT_MOUNT = Path.of("/sys/fs/bpf");

    private Bpffs() {
    }

    /** Whether {@code path} lies on a bpffs; false if it does not exist. */
    public static boolean isBpffs(Path path) {
        return Mounts.isFsType(path, MAGIC);
    }

    /**
     * Mounts bpffs on {@code mountPoint} (creating the directory) unless it is bpffs already. Mode
     * 0700: pinned objects give whoever can open them control over the datapath.
     */
    public static synchronized void ensureMounted(Path mountPoint) {
        if (isBpffs(mountPoint)) {
            return;
        }
        try {
            Libc.mkdir(mountPoint.toString(), 0700);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
        Mounts.mount("bpf", mountPoint, "bpf", 0, "mode=0700");
    }

    /** Creates a pin directory on a bpffs (mode 0700); an existing one is fine. */
    public static void createPinDir(Path dir) {
        try {
            Libc.mkdir(dir.toString(), 0700);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
    }

    /** Removes an empty pin directory; a missing one is fine, a non-empty one fails (ENOTEMPTY). */
    public static void removePinDir(Path dir) {
        try {
            Libc.rmdir(dir.toString());
        } catch (NativeException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
    }
}
