package io.patu.kernel.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@KernelTest
class MountsAndCgroupsTest {

    private static long mountsOf(Path target) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> line.split(" ")[4].equals(target.toString())).count();
    }

    @Test
    void bpffsIsMountedOnceWithPrivateModeAndUnmounted() throws Exception {
        Path mountPoint = Path.of("/tmp").resolve(TestNames.unique("patu-test-", 8));
        try {
            assertFalse(Bpffs.isBpffs(mountPoint), "missing path is not bpffs");
            Bpffs.ensureMounted(mountPoint);
            Bpffs.ensureMounted(mountPoint);
            assertTrue(Bpffs.isBpffs(mountPoint));
            assertTrue(Mounts.isFsType(mountPoint, Bpffs.MAGIC));
            assertFalse(Mounts.isFsType(mountPoint, CgroupV2.MAGIC));
            assertEquals(1, mountsOf(mountPoint), "the second call did not mount again");
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mountPoint)));
        } finally {
            if (Bpffs.isBpffs(mountPoint)) {
                Mounts.umount(mountPoint, 0);
            }
            Bpffs.removePinDir(mountPoint);
        }
        assertEquals(0, mountsOf(mountPoint));
        assertFalse(Files.exists(mountPoint));
        Bpffs.removePinDir(mountPoint); // already gone: fine
    }

    @Test
    void umountOfSomethingNotMountedFailsWithEinval() {
        NativeException e = assertThrows(NativeException.class, () -> Mounts.umount(Path.of("/tmp"), 0));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("umount(/tmp)", e.operation());
    }

    @Test
    void cgroupHoldsAProcessUntilItIsMovedOut() throws Exception {
        Path root = CgroupV2.ensureMounted();
        assertTrue(Mounts.isFsType(root, CgroupV2.MAGIC));
        assertEquals(root, CgroupV2.ensureMounted());
        Path cgroup = CgroupV2.create(root, TestNames.unique("patu-test-", 8));
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            CgroupV2.addProcess(cgroup, sleeper.pid());
            assertEquals(List.of(sleeper.pid()), CgroupV2.processes(cgroup));
            NativeException busy = assertThrows(NativeException.class, () -> CgroupV2.remove(cgroup));
            assertEquals(Errno.EBUSY, busy.errno());

            CgroupV2.removeMovingProcessesTo(cgroup, root);
            assertFalse(Files.exists(cgroup));
            assertTrue(CgroupV2.processes(root).contains(sleeper.pid()));
            assertThrows(IllegalArgumentException.class, () -> CgroupV2.create(root, "../escape"));
        } finally {
            sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            CgroupV2.removeMovingProcessesTo(cgroup, root);
        }
        assertFalse(Files.exists(cgroup));
    }
}
