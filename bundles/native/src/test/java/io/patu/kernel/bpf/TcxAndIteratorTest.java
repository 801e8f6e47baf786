package io.patu.kernel.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** tcx links (order, pinning, detach) and socket iterators bound to a network namespace, on the real kernel. */
@KernelTest
class TcxAndIteratorTest {
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Path pinDir;
    private String netns;
    private String hostVeth;

    @BeforeAll
    static void mountBpffs() {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
    }

    @BeforeEach
    void createNamespaceAndVeth() {
        String id = TestNames.unique("", 6);
        pinDir = Bpffs.DEFAULT_MOUNT.resolve("pd-native-" + id);
        Bpffs.createPinDir(pinDir);
        netns = "pd-ns-" + id;
        hostVeth = "pdh" + id;
        Commands.check("ip", "netns", "add", netns);
        Commands.check("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "pdp" + id, "netns", netns);
        Commands.check("ip", "addr", "add", "10.251.7.1/30", "dev", hostVeth);
        Commands.check("ip", "link", "set", hostVeth, "up");
        Commands.check("ip", "-n", netns, "addr", "add", "10.251.7.2/30", "dev", "pdp" + id);
        Commands.check("ip", "-n", netns, "link", "set", "pdp" + id, "up");
        Commands.check("ip", "-n", netns, "link", "set", "lo", "up");
    }

    @AfterEach
    void removeEverything() throws Exception {
        for (AutoCloseable resource : opened.reversed()) {
            resource.close();
        }
        Commands.run("ip", "link", "del", hostVeth);
        Commands.run("ip", "netns", "del", netns);
        try (Stream<Path> pins = Files.list(pinDir)) {
            for (Path pin : pins.toList()) {
                Files.delete(pin);
            }
        }
        Bpffs.removePinDir(pinDir);
        assertFalse(Files.exists(pinDir), "pin directory removed");
    }

    private <T extends AutoCloseable> T track(T resource) {
        opened.add(resource);
        return resource;
    }

    private BpfObject loaded() {
        BpfObject object = track(BpfObject.open(BpfFixture.elf(), "native_test"));
        object.load();
        return object;
    }

    private int ifindex() {
        return Integer.parseInt(Commands.check("cat", "/sys/class/net/" + hostVeth + "/ifindex").trim());
    }

    private static long u64(byte[] value) {
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getLong();
    }

    private static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    private static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    /** UDP datagrams from the pod's side to the host's address: what the host veth's tcx ingress sees. */
    private void sendFromPod(int count) throws Exception {
        NetNs.callIn(NetNs.NAMED_NETNS_DIR.resolve(netns), () -> {
            try (DatagramSocket socket = new DatagramSocket()) {
                for (int i = 0; i < count; i++) {
                    socket.send(new DatagramPacket(new byte[8], 8, InetAddress.getByName("10.251.7.1"), 9));
                }
            }
            return null;
        });
    }

    @Test
    void tcxLinkAtTheHeadRunsBeforeAnAppendedOneAndGoesWithItsPin() throws Exception {
        BpfObject object = loaded();
        BpfMap seen = object.map("tc_seen");
        int ifindex = ifindex();
        // Appended first, then the other at the head: the head must run first although it came later.
        BpfLink appended = track(object.program("tc_records_mark")
                .attachTcx(ifindex, AttachType.TCX_INGRESS, false, pinDir.resolve("appended")));
        BpfLink head = track(object.program("tc_marks_first")
                .attachTcx(ifindex, AttachType.TCX_INGRESS, true, pinDir.resolve("head")));
        assertEquals(pinDir.resolve("head"), head.pinPath().orElseThrow());
        // bpftool 7.1 does not list tcx links: the programs' effects prove the order.

        sendFromPod(2);
        assertTrue(u64(seen.lookup(u32(1)).orElseThrow()) >= 2, "the appended program ran on what the pod sent");
        assertEquals(0x7a11, u64(seen.lookup(u32(0)).orElseThrow()), "it ran after the head program");

        head.unpin();
        head.close();
        opened.remove(head);
        seen.update(u32(0), u64(0), BpfMap.ANY);
        sendFromPod(1);
        assertEquals(0, u64(seen.lookup(u32(0)).orElseThrow()), "unpinned and closed: detached, nothing marks any more");
        appended.unpin();
    }

    @Test
    void socketIteratorCoversTheNamespaceItIsRunIn() throws Exception {
        BpfObject object = loaded();
        BpfMap found = object.map("iter_found");
        BpfLink iterator = track(object.program("count_tcp_sockets").attachIterator());
        Path ns = NetNs.NAMED_NETNS_DIR.resolve(netns);
        ServerSocket server = track(NetNs.callIn(ns, () -> new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))));
        Socket client = track(NetNs.callIn(ns, () -> {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", server.getLocalPort()));
            return socket;
        }));
        Socket accepted = track(server.accept());
        assertTrue(client.isConnected() && accepted.isConnected());
        found.update(u32(0), u64(server.getLocalPort()), BpfMap.ANY);

        iterator.runIterator();
        assertEquals(0, u64(found.lookup(u32(1)).orElseThrow()), "the agent's namespace has no such connection");
        NetNs.callIn(ns, iterator::runIterator);
        assertEquals(2, u64(found.lookup(u32(1)).orElseThrow()), "both ends, in the pod's namespace");
    }
}
