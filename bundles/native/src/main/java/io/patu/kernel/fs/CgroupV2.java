package io.patu.kernel.fs;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Libc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * cgroup v2 directories: where sockops programs attach. The machines Patu targets boot with cgroup
 * v1 only, so the unified hierarchy is mounted on demand.
 */
public final class CgroupV2 {
    /** CGROUP2_SUPER_MAGIC. */
    public static final long MAGIC = 0x63677270L;

    private static final Path PRIMARY = Path.of("/sys/fs/cgroup");
    private static final Path UNIFIED = PRIMARY.resolve("unified");

    private CgroupV2() {
    }

    /**
     * Returns the cgroup v2 mount: /sys/fs/cgroup on a pure v2 system, else /sys/fs/cgroup/unified,
     * mounting cgroup2 there first if nothing is.
     */
    public static synchronized Path ensureMounted() {
        if (Mounts.isFsType(PRIMARY, MAGIC)) {
            return PRIMARY;
        }
        if (!Mounts.isFsType(UNIFIED, MAGIC)) {
            mkdirIfAbsent(UNIFIED);
            Mounts.mount("cgroup2", UNIFIED, "cgroup2", 0, null);
        }
        return UNIFIED;
    }

    /** Creates (or reuses) the child cgroup {@code name} under {@code parent}. */
    public static Path create(Path parent, String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid cgroup name: '" + name + "'");
        }
        Path cgroup = parent.resolve(name);
        mkdirIfAbsent(cgroup);
        return cgroup;
    }

    /** Moves process {@code pid} (all its threads) into {@code cgroup}. */
    public static void addProcess(Path cgroup, long pid) {
        Libc.writeFile(cgroup.resolve("cgroup.procs").toString(), Long.toString(pid));
    }

    /** The processes currently in {@code cgroup} (not its children). */
    public static List<Long> processes(Path cgroup) {
        try {
            return Files.readAllLines(cgroup.resolve("cgroup.procs")).stream()
                    .filter(line -> !line.isBlank()).map(Long::parseLong).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes an empty cgroup; the kernel refuses (EBUSY) while processes are in it. ENOENT is ignored. */
    public static void remove(Path cgroup) {
        try {
            Libc.rmdir(cgroup.toString());
        } catch (NativeException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
    }

    /** Moves every process of {@code cgroup} to {@code parent}, then removes {@code cgroup}. */
    public static void removeMovingProcessesTo(Path cgroup, Path parent) {
        if (!Files.isDirectory(cgroup)) {
            return;
        }
        for (long pid : processes(cgroup)) {
            try {
                addProcess(parent, pid);
            } catch (NativeException e) {
                if (e.errno() != Errno.ESRCH) { // the process exited meanwhile: nothing to move
                    throw e;
                }
            }
        }
        remove(cgroup);
    }

    private static void mkdirIfAbsent(Path dir) {
        try {
            Libc.mkdir(dir.toString(), 0755);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
    }
}
