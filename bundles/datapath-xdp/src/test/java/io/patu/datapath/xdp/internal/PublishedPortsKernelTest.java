package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PortMapping;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;

/**
 * Published ports served in eBPF, on a miniature node: a pod publishes TCP 8080->80 and UDP 8053->53 on every
 * node address, and is reached from an "outside" namespace through an ingress device (XDP), from another pod
 * (tcx on its host veth) and from the node's own sockets (cgroup hooks), IPv4 and IPv6, with the answers
 * coming back from the address and port the client used. Nothing of it is in nftables or iptables.
 */
@KernelTest
class PublishedPortsKernelTest {
    private PodNet net;
    private Path bpffsDir;
    private XdpDatapath datapath;
    private PodNet.TestPod server;
    private PodNet.TestPod client;
    private EchoServers echo;
    private String ingress;
    private Path outside;
    private InetAddress node4;
    private InetAddress node6;

    @BeforeEach
    void createNode() throws Exception {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
        net = new PodNet("ppub");
        bpffsDir = Bpffs.DEFAULT_MOUNT.resolve("ppub-" + net.id);
        server = net.addPod("s");
        client = net.addPod("c");
        for (PodNet.TestPod pod : List.of(server, client)) {
            // Answers to the outside's IPv6 address leave through the gateway too.
            Commands.check("ip", "-n", pod.netnsName(), "-6", "route", "add", "default", "via", net.v6Prefix + "1");
        }
        ingress = "ppubo" + net.id;
        String outsideName = "ppub-" + net.id + "-out";
        outside = NetNs.create(outsideName);
        net.own(ingress, outsideName);
        String v4 = "10.233." + Integer.parseInt(net.id.substring(0, 2), 16) + ".";
        String v6 = "fd00:233:" + net.id.substring(0, 4) + "::";
        node4 = InetAddress.ofLiteral(v4 + "1");
        node6 = InetAddress.ofLiteral(v6 + "1");
        Commands.check("ip", "link", "add", ingress, "type", "veth", "peer", "name", "eth0", "netns", outsideName);
        Commands.check("ip", "addr", "add", v4 + "1/29", "dev", ingress);
        Commands.check("ip", "addr", "add", v6 + "1/64", "dev", ingress, "nodad");
        Commands.check("ip", "link", "set", ingress, "up");
        Commands.check("ip", "-n", outsideName, "addr", "add", v4 + "2/29", "dev", "eth0");
        Commands.check("ip", "-n", outsideName, "addr", "add", v6 + "2/64", "dev", "eth0", "nodad");
        Commands.check("ip", "-n", outsideName, "link", "set", "eth0", "up");
        // Full checksums, as a NIC delivers them (a veth would hand XDP partial ones).
        Commands.check("ip", "netns", "exec", outsideName, "ethtool", "-K", "eth0", "tx", "off");
        echo = new EchoServers(server.netns(), 80, 53);
    }

    @AfterEach
    void removeEverything() throws Exception {
        try {
            echo.close();
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

    private XdpDatapath start() {
        return start(5);
    }

    private XdpDatapath start(int nodeAddressSeconds) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("nodeAddressSeconds", nodeAddressSeconds);
        properties.put("bpffsDir", bpffsDir.toString());
        properties.put("nodeCgroup", net.cgroup.toString());
        properties.put("ingressDevices", new String[] {ingress});
        return new XdpDatapath(Converters.standardConverter().convert(properties).to(XdpDatapath.Config.class));
    }

    private static Pod publishing(PodNet.TestPod pod) {
        return pod.pod().withPortMappings(List.of(new PortMapping(null, 8080, 80, "tcp"), new PortMapping(null, 8053, 53, "udp")));
    }

    /** Creates sockets as a process of the node's cgroup would: the test's JVM joins it for the call only. */
    private <T> T inNodeCgroup(Callable<T> create) throws Exception {
        String own = Files.readAllLines(Path.of("/proc/self/cgroup")).stream().filter(l -> l.startsWith("0::"))
                .findFirst().orElseThrow().substring(3);
        Path home = CgroupV2.ensureMounted().resolve(own.substring(1));
        CgroupV2.addProcess(net.cgroup, ProcessHandle.current().pid());
        try {
            return create.call();
        } finally {
            CgroupV2.addProcess(home, ProcessHandle.current().pid());
        }
    }

    @Test
    void aPublishedPortAnswersFromOutsideFromPodsAndFromTheNode() throws Exception {
        datapath = start();
        datapath.podAdded(publishing(server));
        datapath.podAdded(client.pod());

        // From outside, through XDP on the ingress device.
        assertEquals("echo:out4", EchoServers.tcp(outside, node4, 8080, "out4"));
        assertEquals("echo:out6", EchoServers.tcp(outside, node6, 8080, "out6"));
        assertEquals("echo:u4 from " + node4.getHostAddress() + ":8053", EchoServers.udp(outside, node4, 8053, "u4"),
                "the answer comes from the address and port the client used");
        assertEquals("echo:u6 from " + node6.getHostAddress() + ":8053", EchoServers.udp(outside, node6, 8053, "u6"));
        long[] counters = datapath.portCounters();
        assertTrue(counters[0] >= 4, "translated by XDP: " + List.of(counters[0], counters[1], counters[2], counters[3]));
        assertTrue(counters[2] >= 4, "answers translated back");

        // From another pod, to the node's address on its bridge (its gateway) and to the ingress address.
        InetAddress gateway4 = InetAddress.ofLiteral(net.v4Prefix + "1");
        InetAddress gateway6 = InetAddress.ofLiteral(net.v6Prefix + "1");
        assertEquals("echo:pod4", EchoServers.tcp(client.netns(), gateway4, 8080, "pod4"));
        assertEquals("echo:pod6", EchoServers.tcp(client.netns(), gateway6, 8080, "pod6"));
        assertEquals("echo:podx", EchoServers.tcp(client.netns(), node4, 8080, "podx"));
        assertEquals("echo:pu4 from " + gateway4.getHostAddress() + ":8053", EchoServers.udp(client.netns(), gateway4, 8053, "pu4"));
        assertEquals("echo:pu6 from " + gateway6.getHostAddress() + ":8053", EchoServers.udp(client.netns(), gateway6, 8053, "pu6"));
        assertTrue(datapath.portCounters()[1] >= counters[1] + 5, "translated on the client pod's veth");

        // From the node itself: sockets of the node's cgroup, to loopback and to a node address.
        long sockets = datapath.portCounters()[3];
        for (InetAddress to : List.of(InetAddress.ofLiteral("127.0.0.1"), InetAddress.ofLiteral("::1"), node4, gateway6)) {
            try (Socket socket = inNodeCgroup(() -> EchoServers.connected(to, 8080))) {
                assertEquals("echo:node", EchoServers.exchange(socket, "node"), "to " + to);
            }
            DatagramSocket udp = inNodeCgroup(DatagramSocket::new);
            udp.setSoTimeout(3000);
            udp.send(new DatagramPacket(new byte[] {'n'}, 1, to, 8053));
            DatagramPacket answer = new DatagramPacket(new byte[64], 64);
            udp.receive(answer);
            assertEquals(new InetSocketAddress(to, 8053), answer.getSocketAddress(), "recvmsg gives back what was addressed");
            udp.close();
        }
        assertEquals(sockets + 8, datapath.portCounters()[3], "one translation a connect or a datagram");

        String view = new XdpCommands(datapath).xdp();
        System.out.println(view);
        assertTrue(view.contains("8080") && view.contains("any IPv6") && view.contains(server.v4().getHostAddress()), view);
        assertFalse(Commands.run("nft", "list", "ruleset").output().contains("8080"), "nothing in nftables");

        // DEL: the entries go, and so does every translated connection's state.
        datapath.podRemoved(publishing(server));
        assertTrue(datapath.kernelPortEntries().isEmpty(), "port_map released");
        assertEquals(0, datapath.kernelNatEntries(), "nat_back released");
        assertThrows(IOException.class, () -> EchoServers.tcp(outside, node4, 8080, "gone"), "nothing answers any more");
    }

    /**
     * What arrives from outside for a published port is handed straight to the pod (patu_tcx_ingress after the
     * XDP translation): the fast path's counter grows by every packet while the pod's host veth, the bridge's
     * port to it, transmits none of them; answers come back right, IPv4 and IPv6, TCP and UDP. A pod the policy
     * bundle isolates for ingress (an entry in its pinned ingress_isolated, which may appear, change and be
     * re-created at any time) is left to the stack, where its veth's policy decides.
     */
    @Test
    void publishedPortsFromOutsideGoStraightToThePodUnlessPolicyIsolatesIt() throws Exception {
        // No timer: policy's pins are followed as they change (inotify), which is what this test shows.
        datapath = start(0);
        datapath.podAdded(publishing(server));
        // The first exchange of each family resolves the pod's neighbour entry through the stack.
        EchoServers.udp(outside, node4, 8053, "warm4");
        EchoServers.udp(outside, node6, 8053, "warm6");

        // In the pod: what arrives as the forwarding path would have made it (TTL / hop limit down by one from the
        // sender's 64, the gateway's MAC as source, the pod's as destination), counted per family.
        String bridgeMac = Commands.check("cat", "/sys/class/net/" + net.bridge + "/address").strip();
        String match = "ether saddr " + bridgeMac + " ether daddr " + server.pod().mac() + " counter";
        Commands.check("ip", "netns", "exec", server.netnsName(), "nft", "add table inet ppub_seen;"
                + " add chain inet ppub_seen input { type filter hook input priority 0; policy accept; };"
                + " add rule inet ppub_seen input udp dport 53 ip ttl 63 " + match + ";"
                + " add rule inet ppub_seen input udp dport 53 ip6 hoplimit 63 " + match);
        long[] before = datapath.portCounters();
        long bridged = PodNet.stat(server.hostVeth(), "tx_packets");
        int datagrams = 0;
        for (int i = 0; i < 20; i++) {
            for (InetAddress node : List.of(node4, node6)) {
                assertEquals("echo:f" + i + " from " + node.getHostAddress() + ":8053", EchoServers.udp(outside, node, 8053, "f" + i));
                datagrams++;
            }
        }
        for (int i = 0; i < 3; i++) {
            assertEquals("echo:t4", EchoServers.tcp(outside, node4, 8080, "t4"));
            assertEquals("echo:t6", EchoServers.tcp(outside, node6, 8080, "t6"));
        }
        long[] after = datapath.portCounters();
        List<Long> seen = java.util.regex.Pattern.compile("counter packets (\\d+)")
                .matcher(Commands.check("ip", "netns", "exec", server.netnsName(), "nft", "list", "chain", "inet", "ppub_seen", "input"))
                .results().map(m -> Long.parseLong(m.group(1))).toList();
        assertEquals(List.of(20L, 20L), seen, "IPv4 and IPv6 datagrams with TTL / hop limit 63 and the forwarding path's MACs");
        // Each TCP connection sends at least its SYN, its data and its FIN (with ACKs) to the pod.
        long sent = datagrams + 6 * 3;
        assertTrue(after[4] - before[4] >= sent, "delivered straight to the pod: " + (after[4] - before[4]) + " of at least " + sent);
        long throughBridge = PodNet.stat(server.hostVeth(), "tx_packets") - bridged;
        assertTrue(throughBridge < 10, throughBridge + " packets reached the pod through the bridge, not the fast path");
        assertTrue(new XdpCommands(datapath).xdp().contains((after[4]) + " delivered straight to the pod"));
        assertTrue(datapath.links().contains("link_handoff_" + ifindexOf(ingress)), datapath.links().toString());

        // Policy (started after this feature) isolates the pod: its packets are left to the stack.
        Path policy = bpffsDir.resolve("policy");
        Files.createDirectories(policy);
        Path isolatedPin = policy.resolve("ingress_isolated");
        createIsolatedMap(isolatedPin);
        isolate(isolatedPin, server.pod().hostIfIndex());
        awaitFollowed(Optional.of(idOf(isolatedPin)));
        assertLeftToTheStack("isolated");

        // The entry goes: the fast path again.
        onKey("delete", isolatedPin, server.pod().hostIfIndex());
        long delivered = datapath.portCounters()[4];
        assertEquals("echo:free from " + node4.getHostAddress() + ":8053", EchoServers.udp(outside, node4, 8053, "free"));
        assertTrue(datapath.portCounters()[4] > delivered, "delivered straight again");

        // Policy restarted: its directory and map go, a new map comes under the same pin, and is followed.
        int first = idOf(isolatedPin);
        Commands.check("rm", "-r", policy.toString());
        awaitFollowed(Optional.empty());
        Files.createDirectories(policy);
        createIsolatedMap(isolatedPin);
        isolate(isolatedPin, server.pod().hostIfIndex());
        assertFalse(idOf(isolatedPin) == first, "a new map");
        awaitFollowed(Optional.of(idOf(isolatedPin)));
        assertLeftToTheStack("isolated again");

        // Policy gone: nothing to consult, the fast path for everyone.
        Files.delete(isolatedPin);
        awaitFollowed(Optional.empty());
        delivered = datapath.portCounters()[4];
        assertEquals("echo:gone from " + node6.getHostAddress() + ":8053", EchoServers.udp(outside, node6, 8053, "gone"));
        assertTrue(datapath.portCounters()[4] > delivered, "delivered straight with no policy");
    }

    private void awaitFollowed(Optional<Integer> map) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!datapath.followedPolicyMap().equals(map)) {
            assertTrue(System.nanoTime() < deadline, "policy's pin not followed within 10 s: holding "
                    + datapath.followedPolicyMap() + ", expected " + map);
            Thread.sleep(20);
        }
    }

    private static int idOf(Path pin) {
        try (io.patu.kernel.bpf.BpfMap map = io.patu.kernel.bpf.BpfMap.openPinned(pin)) {
            return map.id();
        }
    }

    private void assertLeftToTheStack(String message) throws Exception {
        long[] before = datapath.portCounters();
        long bridged = PodNet.stat(server.hostVeth(), "tx_packets");
        for (InetAddress node : List.of(node4, node6)) {
            assertEquals("echo:" + message + " from " + node.getHostAddress() + ":8053", EchoServers.udp(outside, node, 8053, message));
        }
        assertEquals("echo:" + message, EchoServers.tcp(outside, node4, 8080, message));
        long[] after = datapath.portCounters();
        assertEquals(before[4], after[4], message + ": nothing delivered by the fast path");
        assertTrue(after[5] - before[5] >= 2 + 3, message + ": left to the stack " + (after[5] - before[5]));
        assertTrue(PodNet.stat(server.hostVeth(), "tx_packets") - bridged >= 2 + 3, message + ": through the bridge");
    }

    /** The policy bundle's map, as it creates it (bpf/policy.bpf.c: hash, host veth ifindex -> 1). */
    private static void createIsolatedMap(Path pin) {
        Commands.check("bpftool", "map", "create", pin.toString(), "type", "hash", "key", "4", "value", "1", "entries",
                "4096", "name", "ingress_isolated");
    }

    private static void isolate(Path pin, int ifindex) {
        onKey("update", pin, ifindex, "value", "1");
    }

    private static void onKey(String operation, Path pin, int ifindex, String... rest) {
        List<String> command = new java.util.ArrayList<>(List.of("bpftool", "map", operation, "pinned", pin.toString(), "key"));
        command.addAll(List.of(le(ifindex)));
        command.addAll(List.of(rest));
        Commands.check(command.toArray(String[]::new));
    }

    /** A u32 as bpftool takes a key: four bytes, little-endian, in decimal. */
    private static String[] le(int value) {
        return new String[] {String.valueOf(value & 0xff), String.valueOf((value >> 8) & 0xff),
                String.valueOf((value >> 16) & 0xff), String.valueOf((value >>> 24) & 0xff)};
    }

    private static int ifindexOf(String device) {
        return Integer.parseInt(Commands.check("cat", "/sys/class/net/" + device + "/ifindex").strip());
    }

    @Test
    void aHostPortHeldByAnotherPodIsRefusedAndNothingChanges() throws Exception {
        datapath = start();
        datapath.podAdded(publishing(server));
        PatuException refused = assertThrows(PatuException.class, () -> datapath.podAdded(client.pod().withPortMappings(
                List.of(new PortMapping(null, 9000, 90, "tcp"), new PortMapping(null, 8080, 81, "tcp")))));
        assertTrue(refused.getMessage().contains("already published by " + server.pod().id()), refused.getMessage());
        assertEquals(4, datapath.kernelPortEntries().size(), "the server's two ports in two families, nothing of the refused pod");
        assertEquals("echo:still", EchoServers.tcp(outside, node4, 8080, "still"));
    }

    @Test
    void portsSurviveAnAgentRestartAndGoWhenTheFeatureStops() throws Exception {
        datapath = start();
        datapath.podAdded(publishing(server));
        datapath.keepForRestart();
        datapath = null;
        assertEquals("echo:between", EchoServers.tcp(outside, node4, 8080, "between"), "served with no agent running");
        datapath = start();
        datapath.podAdded(publishing(server)); // the replay
        assertEquals("echo:again", EchoServers.tcp(outside, node4, 8080, "again"));
        datapath.close();
        datapath = null;
        assertThrows(IOException.class, () -> EchoServers.tcp(outside, node4, 8080, "stopped"));
        assertFalse(Commands.check("bpftool", "cgroup", "show", net.cgroup.toString()).contains("patu_sock"),
                "the socket hooks left the cgroup");
    }

    @Test
    void aDeviceWithoutXdpServesPublishedPortsThroughTcx() throws Exception {
        // A second outside, on a device listed in publishDevices: tcx, not XDP, and partial checksums left on.
        String device = "ppubq" + net.id;
        String name = "ppub-" + net.id + "-o2";
        Path second = NetNs.create(name);
        net.own(device, name);
        String v4 = "10.234." + Integer.parseInt(net.id.substring(0, 2), 16) + ".";
        Commands.check("ip", "link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", name);
        Commands.check("ip", "addr", "add", v4 + "1/29", "dev", device);
        Commands.check("ip", "link", "set", device, "up");
        Commands.check("ip", "-n", name, "addr", "add", v4 + "2/29", "dev", "eth0");
        Commands.check("ip", "-n", name, "link", "set", "eth0", "up");
        Map<String, Object> properties = new HashMap<>();
        properties.put("bpffsDir", bpffsDir.toString());
        properties.put("nodeCgroup", net.cgroup.toString());
        properties.put("publishDevices", new String[] {device});
        datapath = new XdpDatapath(Converters.standardConverter().convert(properties).to(XdpDatapath.Config.class));
        datapath.podAdded(publishing(server));
        InetAddress node = InetAddress.ofLiteral(v4 + "1");
        long before = datapath.portCounters()[0];
        assertEquals("echo:tcx", EchoServers.tcp(second, node, 8080, "tcx"));
        assertEquals("echo:tu from " + node.getHostAddress() + ":8053", EchoServers.udp(second, node, 8053, "tu"));
        assertTrue(datapath.portCounters()[0] >= before + 2, "translated on the device's tcx ingress");
        // Once the pod's neighbour entry exists, the translated packets go straight to it (bpf_redirect_peer).
        long delivered = datapath.portCounters()[4];
        long bridged = PodNet.stat(server.hostVeth(), "tx_packets");
        for (int i = 0; i < 20; i++) {
            assertEquals("echo:t" + i + " from " + node.getHostAddress() + ":8053", EchoServers.udp(second, node, 8053, "t" + i));
        }
        assertTrue(datapath.portCounters()[4] >= delivered + 20, "delivered by the fast path from tcx too");
        assertTrue(PodNet.stat(server.hostVeth(), "tx_packets") - bridged < 10, "not through the bridge");
        assertFalse(Commands.check("ip", "link", "show", device).contains("xdp"), "no XDP on it");
        int ifindex = Integer.parseInt(Commands.check("cat", "/sys/class/net/" + device + "/ifindex").strip());
        assertTrue(datapath.links().contains("link_publish_" + ifindex), datapath.links().toString());
        assertTrue(new XdpCommands(datapath).xdp().contains("published ports also on (tcx, patu_tcx_publish): " + device));
        datapath.close();
        datapath = null;
        assertThrows(IOException.class, () -> EchoServers.tcp(second, node, 8080, "stopped"), "gone with the feature");
    }
}
