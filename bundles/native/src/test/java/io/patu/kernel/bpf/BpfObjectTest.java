package io.patu.kernel.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@KernelTest
class BpfObjectTest {
    private static Path cgroupRoot;

    private final List<AutoCloseable> opened = new ArrayList<>();
    private Path pinDir;
    private Path cgroup;

    @BeforeAll
    static void mountFileSystems() {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
        cgroupRoot = CgroupV2.ensureMounted();
    }

    @BeforeEach
    void createPinDir() {
        pinDir = Bpffs.DEFAULT_MOUNT.resolve(TestNames.unique("patu-test-", 8));
        Bpffs.createPinDir(pinDir);
    }

    @AfterEach
    void removeEverything() throws Exception {
        for (AutoCloseable resource : opened.reversed()) {
            resource.close();
        }
        try (Stream<Path> pins = Files.list(pinDir)) {
            for (Path pin : pins.toList()) {
                Files.delete(pin);
            }
        }
        Bpffs.removePinDir(pinDir);
        assertFalse(Files.exists(pinDir), "pin directory removed");
        if (cgroup != null) {
            CgroupV2.removeMovingProcessesTo(cgroup, cgroupRoot);
            assertFalse(Files.exists(cgroup), "cgroup removed");
        }
    }

    private BpfObject openLoaded() {
        BpfObject object = track(BpfObject.open(BpfFixture.elf(), "native_test"));
        object.pinMapsUnder(pinDir);
        object.load();
        return object;
    }

    private <T extends AutoCloseable> T track(T resource) {
        opened.add(resource);
        return resource;
    }

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    private static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    private static long sumPerCpu(byte[] values) {
        ByteBuffer buffer = ByteBuffer.wrap(values).order(ByteOrder.nativeOrder());
        long sum = 0;
        while (buffer.remaining() >= 8) {
            sum += buffer.getLong();
        }
        return sum;
    }

    @Test
    void hashMapUpdateLookupDeleteAndKeys() {
        BpfMap map = openLoaded().map("test_hash");
        assertEquals("test_hash", map.name());
        assertEquals(4, map.keySize());
        assertEquals(8, map.valueSize());
        assertFalse(map.isPerCpu());
        assertTrue(map.fd() > 0);

        map.update(u32(1), u64(100), BpfMap.ANY);
        map.update(u32(2), u64(200), BpfMap.NOEXIST);
        assertEquals(Errno.EEXIST,
                assertThrows(NativeException.class, () -> map.update(u32(1), u64(1), BpfMap.NOEXIST)).errno());
        NativeException absent = assertThrows(NativeException.class, () -> map.update(u32(3), u64(1), BpfMap.EXIST));
        assertEquals(Errno.ENOENT, absent.errno());
        assertEquals("bpf_map_update_elem(test_hash)", absent.operation());
        map.update(u32(1), u64(111), BpfMap.EXIST);

        assertArrayEquals(u64(111), map.lookup(u32(1)).orElseThrow());
        assertTrue(map.lookup(u32(3)).isEmpty());
        assertEquals(Set.of("01000000", "02000000"),
                map.keys().stream().map(HexFormat.of()::formatHex).collect(Collectors.toSet()));

        assertTrue(map.delete(u32(1)));
        assertFalse(map.delete(u32(1)));
        assertTrue(map.lookup(u32(1)).isEmpty());
        assertEquals(1, map.keys().size());
        assertThrows(IllegalArgumentException.class, () -> map.update(new byte[3], u64(1), BpfMap.ANY));
        assertThrows(IllegalArgumentException.class, () -> map.update(u32(1), new byte[4], BpfMap.ANY));
    }

    @Test
    void perCpuValuesHoldOneSlotPerPossibleCpu() {
        BpfMap calls = openLoaded().map("sockops_calls");
        assertTrue(calls.isPerCpu());
        int cpus = BpfMap.possibleCpus();
        assertTrue(cpus >= 1);
        byte[] zero = calls.lookup(u32(0)).orElseThrow();
        assertEquals(cpus * 8, zero.length);
        assertEquals(0, sumPerCpu(zero));

        byte[] values = new byte[cpus * 8];
        ByteBuffer.wrap(values).order(ByteOrder.nativeOrder()).putLong(0, 5).putLong((cpus - 1) * 8, 7);
        calls.update(u32(1), values, BpfMap.ANY);
        assertArrayEquals(values, calls.lookup(u32(1)).orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> calls.update(u32(1), u64(1), BpfMap.ANY));
    }

    @Test
    void mapsArePinnedUnderTheDirectoryAndReusedByTheNextObject() throws Exception {
        BpfObject first = openLoaded();
        assertEquals(Set.of("test_hash", "sockops_calls", "test_sockhash", "tc_seen", "iter_found"),
                first.maps().stream().map(BpfMap::name).collect(Collectors.toSet()));
        BpfMap firstMap = first.map("test_hash");
        assertEquals(pinDir.resolve("test_hash"), firstMap.pinPath().orElseThrow());
        assertTrue(Files.exists(pinDir.resolve("test_hash")));
        assertTrue(Bpffs.isBpffs(pinDir));
        firstMap.update(u32(7), u64(42), BpfMap.ANY);
        first.close();

        BpfObject second = openLoaded();
        assertArrayEquals(u64(42), second.map("test_hash").lookup(u32(7)).orElseThrow(),
                "the second object reuses the pinned map, contents included");

        try (BpfMap pinned = BpfMap.openPinned(pinDir.resolve("test_hash"))) {
            assertEquals("test_hash", pinned.name());
            assertEquals(4, pinned.keySize());
            assertEquals(8, pinned.valueSize());
            assertArrayEquals(u64(42), pinned.lookup(u32(7)).orElseThrow());
        }

        second.map("test_hash").unpin();
        assertFalse(Files.exists(pinDir.resolve("test_hash")));
        second.map("test_hash").unpin(); // already gone: no-op
        assertEquals(Errno.ENOENT,
                assertThrows(NativeException.class, () -> BpfMap.openPinned(pinDir.resolve("test_hash"))).errno());
    }

    @Test
    void sockopsLinkInACgroupIsPinnedReopenedUpdatedAndDetached() throws Exception {
        cgroup = CgroupV2.create(cgroupRoot, TestNames.unique("patu-test-", 8));
        BpfObject object = openLoaded();
        BpfProgram v1 = object.program("count_sockops");
        BpfMap calls = object.map("sockops_calls");
        Path linkPin = pinDir.resolve("sockops_link");

        BpfLink link = v1.attachCgroup(cgroup);
        link.pin(linkPin);
        assertEquals(linkPin, link.pinPath().orElseThrow());
        link.close(); // pinned: the attachment survives its handle
        assertTrue(attachedPrograms().contains("count_sockops"), attachedPrograms());

        try (AutoCloseable stats = BpfProgram.enableRunStats()) {
            connectFromInsideCgroup();
            assertTrue(sumPerCpu(calls.lookup(u32(0)).orElseThrow()) > 0, "v1 ran for the cgroup's TCP connection");
            assertTrue(v1.runCount() > 0, "run_cnt counted while stats are enabled");
        }

        BpfLink reopened = track(BpfLink.openPinned(linkPin).orElseThrow());
        reopened.updateProgram(object.program("count_sockops_v2"));
        assertTrue(attachedPrograms().contains("count_sockops_v2"), attachedPrograms());
        connectFromInsideCgroup();
        assertTrue(sumPerCpu(calls.lookup(u32(1)).orElseThrow()) > 0, "after updateProgram, v2 runs");

        reopened.detach();
        reopened.unpin();
        assertFalse(Files.exists(linkPin));
        assertTrue(BpfLink.openPinned(linkPin).isEmpty());
        assertFalse(attachedPrograms().contains("count_sockops"), attachedPrograms());
    }

    @Test
    void skMsgProgramAttachesToAndDetachesFromASockhash() {
        BpfObject object = openLoaded();
        BpfProgram verdict = object.program("pass_msg");
        BpfMap sockhash = object.map("test_sockhash");

        verdict.attachToMap(sockhash, AttachType.SK_MSG_VERDICT);
        verdict.detachFromMap(sockhash, AttachType.SK_MSG_VERDICT);
        NativeException notAttached = assertThrows(NativeException.class,
                () -> verdict.detachFromMap(sockhash, AttachType.SK_MSG_VERDICT));
        assertEquals(Errno.ENOENT, notAttached.errno());
        assertEquals("bpf_prog_detach2(sk_msg_verdict) failed: No such file or directory (errno 2)",
                notAttached.getMessage());
    }

    @Test
    void failuresBecomeNativeExceptions() {
        BpfObject object = openLoaded();
        NativeException noProgram = assertThrows(NativeException.class, () -> object.program("nope"));
        assertEquals(Errno.ENOENT, noProgram.errno());
        assertTrue(noProgram.getMessage().contains("No such file or directory (errno 2)"), noProgram.getMessage());
        assertEquals(Errno.ENOENT, assertThrows(NativeException.class, () -> object.map("nope")).errno());

        NativeException garbage = assertThrows(NativeException.class,
                () -> BpfObject.open("definitely not an ELF file".getBytes(), "garbage"));
        assertTrue(garbage.getMessage().contains("BPF object format invalid"), garbage.getMessage()); // libbpf's errno 4001
        assertTrue(garbage.operation().startsWith("bpf_object__open_mem"), garbage.operation());
        assertThrows(NativeException.class, () -> BpfObject.open(new byte[0], "empty"));

        object.close();
        assertThrows(IllegalStateException.class, () -> object.program("count_sockops"));
    }

    private String attachedPrograms() {
        return Commands.check("bpftool", "cgroup", "show", cgroup.toString());
    }

    /** A short-lived shell moves itself into the test cgroup and opens one TCP connection. */
    private void connectFromInsideCgroup() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            String script = "echo $$ > " + cgroup.resolve("cgroup.procs")
                    + " && exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + "'";
            Commands.check("sh", "-c", script);
            server.accept().close();
        }
    }
}
