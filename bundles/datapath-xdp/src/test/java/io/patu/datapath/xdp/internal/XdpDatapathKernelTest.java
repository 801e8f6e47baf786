package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;

/**
 * The packet datapath on the real kernel: pods on a bridge as the lifecycle builds them, the datapath told
 * about them as the lifecycle would. Delivery between pods is proven by the datapath's counters against the
 * destination's host veth, which carries every frame the bridge forwards to that pod.
 */
@KernelTest
class XdpDatapathKernelTest {
    private static final int PACKETS = 2000;

    private PodNet net;
    private Path bpffsDir;
    private XdpDatapath datapath;

    @BeforeEach
    void createNode() {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
        net = new PodNet();
        bpffsDir = Bpffs.DEFAULT_MOUNT.resolve("px-" + net.id);
    }

    @AfterEach
    void removeEverything() {
        try {
            if (datapath != null) {
                datapath.close();
            }
        } finally {
            net.close();
            if (Files.exists(bpffsDir)) {
                Commands.run("rm", "-rf", bpffsDir.toString());
            }
        }
        assertFalse(Files.exists(bpffsDir), "pins removed");
    }

    private XdpDatapath start(Map<String, Object> extra) {
        Map<String, Object> properties = new HashMap<>(extra);
        properties.put("bpffsDir", bpffsDir.toString());
        properties.put("nodeCgroup", net.cgroup.toString());
        return new XdpDatapath(Converters.standardConverter().convert(properties).to(XdpDatapath.Config.class));
    }

    private static XdpDatapath.PodCounters countersOf(XdpDatapath datapath, PodNet.TestPod pod) {
        return datapath.podCounters().stream().filter(c -> c.hostVeth().equals(pod.hostVeth())).findFirst().orElseThrow();
    }

    @Test
    void udpAndTcpOverBothFamiliesSkipTheBridgeAndNeighbourDiscoveryStillWorks() throws Exception {
        PodNet.TestPod a = net.addPod("a");
        PodNet.TestPod b = net.addPod("b");
        String offloadsBefore = offloads(a);
        String mtuBefore = mtu(a);
        datapath = start(Map.of());
        datapath.podAdded(a.pod());
        datapath.podAdded(b.pod());

        record Case(String name, java.net.InetAddress to, boolean udp) {
        }
        for (Case c : List.of(new Case("UDP/IPv4", b.v4(), true), new Case("UDP/IPv6", b.v6(), true),
                new Case("TCP/IPv4", b.v4(), false), new Case("TCP/IPv6", b.v6(), false))) {
            // The first exchange resolves the neighbour through the bridge; what follows is measured.
            Traffic.udp(a.netns(), b.netns(), c.to(), 7100, 3);
            long txBefore = PodNet.stat(b.hostVeth(), "tx_packets");
            long deliveredBefore = countersOf(datapath, a).deliveredPackets();
            if (c.udp()) {
                assertEquals(PACKETS, Traffic.udp(a.netns(), b.netns(), c.to(), 7101, PACKETS), c.name() + " arrived");
            } else {
                assertEquals(8L << 20, Traffic.tcp(a.netns(), b.netns(), c.to(), 7102, 8L << 20), c.name() + " arrived");
            }
            long crossedBridge = PodNet.stat(b.hostVeth(), "tx_packets") - txBefore;
            long delivered = countersOf(datapath, a).deliveredPackets() - deliveredBefore;
            System.out.printf("%s: %d delivered by tcx, %d frames through the bridge to b%n", c.name(), delivered,
                    crossedBridge);
            assertTrue(delivered >= (c.udp() ? PACKETS : 100), c.name() + " delivered by the datapath: " + delivered);
            // Only b's replies' neighbour traffic or the rare stray frame may still cross: never the data.
            assertTrue(crossedBridge <= 10, c.name() + ": frames the bridge forwarded to b: " + crossedBridge);
        }
        assertTrue(countersOf(datapath, a).passedPackets() > 0, "ARP/ND went to the bridge");
        String neighbours = Commands.check("ip", "-n", a.netnsName(), "neigh", "show", "dev", "eth0");
        for (java.net.InetAddress address : List.of(b.v4(), b.v6())) {
            assertTrue(neighbours.lines().anyMatch(line -> java.net.InetAddress.ofLiteral(line.split(" ")[0]).equals(address)
                    && line.contains("lladdr " + b.pod().mac())), "a resolved " + address + ": " + neighbours);
        }
        assertEquals(offloadsBefore, offloads(a), "the pod's offloads are untouched");
        assertTrue(offloadsBefore.contains("tcp-segmentation-offload: on")
                && offloadsBefore.contains("generic-segmentation-offload: on"), offloadsBefore);
        assertEquals(mtuBefore, mtu(a), "the pod's MTU is untouched");
        assertTrue(Files.exists(bpffsDir.resolve("xdp/link_pod_" + a.pod().hostIfIndex())), "link pinned");

        // Stopped: the links and pins go, traffic takes the bridge again.
        datapath.close();
        datapath = null;
        assertFalse(Files.exists(bpffsDir.resolve("xdp")), "every pin removed");
        long txBefore = PodNet.stat(b.hostVeth(), "tx_packets");
        assertEquals(100, Traffic.udp(a.netns(), b.netns(), b.v4(), 7103, 100));
        assertTrue(PodNet.stat(b.hostVeth(), "tx_packets") - txBefore >= 100, "back on the bridge");
    }

    @Test
    void framesForTheGatewayOrOffTheNodeGoToTheBridge() throws Exception {
        PodNet.TestPod a = net.addPod("a");
        PodNet.TestPod b = net.addPod("b");
        datapath = start(Map.of());
        datapath.podAdded(a.pod());
        datapath.podAdded(b.pod());
        long passed = countersOf(datapath, a).passedPackets();
        assertEquals(50, Traffic.udp(a.netns(), null, java.net.InetAddress.ofLiteral(net.v4Prefix + "1"), 7150, 50));
        assertTrue(countersOf(datapath, a).passedPackets() - passed >= 50, "datagrams to the gateway passed to the bridge");
        assertEquals(0, countersOf(datapath, a).deliveredPackets());
    }

    @Test
    void aVethDeletedWhileAttachedLeavesTheDatapathWorking() throws Exception {
        PodNet.TestPod a = net.addPod("a");
        PodNet.TestPod b = net.addPod("b");
        datapath = start(Map.of());
        datapath.podAdded(a.pod());
        datapath.podAdded(b.pod());
        Commands.check("ip", "link", "del", b.hostVeth());
        assertDoesNotThrow(() -> datapath.podRemoved(b.pod()));
        assertFalse(Files.exists(bpffsDir.resolve("xdp/link_pod_" + b.pod().hostIfIndex())), "its link pin is gone");
        PodNet.TestPod c = net.addPod("c");
        datapath.podAdded(c.pod());
        assertEquals(PACKETS, Traffic.udp(a.netns(), c.netns(), c.v4(), 7200, PACKETS));
        assertTrue(countersOf(datapath, a).deliveredPackets() >= PACKETS);
    }

    @Test
    void aRestartedDatapathTakesOverThePinnedLinksInPlace() throws Exception {
        PodNet.TestPod a = net.addPod("a");
        PodNet.TestPod b = net.addPod("b");
        datapath = start(Map.of());
        datapath.podAdded(a.pod());
        datapath.podAdded(b.pod());
        Traffic.udp(a.netns(), b.netns(), b.v4(), 7300, 3);
        // An agent shutdown: everything stays pinned and attached.
        datapath.keepForRestart();
        assertTrue(Files.exists(bpffsDir.resolve("xdp/link_pod_" + a.pod().hostIfIndex())), "link kept for the next agent");
        long txBefore = PodNet.stat(b.hostVeth(), "tx_packets");
        assertEquals(PACKETS, Traffic.udp(a.netns(), b.netns(), b.v4(), 7301, PACKETS));
        assertTrue(PodNet.stat(b.hostVeth(), "tx_packets") - txBefore <= 10, "delivery went on without an agent");
        datapath = start(Map.of());
        datapath.podAdded(a.pod());
        datapath.podAdded(b.pod());
        assertTrue(countersOf(datapath, a).deliveredPackets() >= PACKETS, "counters survived the restart");
    }

    private static String offloads(PodNet.TestPod pod) {
        return Commands.check("ip", "netns", "exec", pod.netnsName(), "ethtool", "-k", "eth0");
    }

    private static String mtu(PodNet.TestPod pod) {
        return Commands.check("ip", "netns", "exec", pod.netnsName(), "cat", "/sys/class/net/eth0/mtu").strip();
    }
}
