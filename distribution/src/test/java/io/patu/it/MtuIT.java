package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.Route;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.KernelTest;

/**
 * The MTU design end to end (docs/mtu.md): pods and the bridge at the jumbo node-local MTU, every route off the
 * node at the uplink's. An "outside" namespace behind a veth of MTU 1500, routed by the host (forwarding turned
 * on for the bridge and that veth only, no masquerade), plays the world beyond the uplink: traffic to it is
 * sized for 1500 by the pod's own stack, exactly as a host socket to the same place is. Between pods and to the
 * node, TCP segments and UDP datagrams of 60 KB cross unfragmented. Every byte of every transfer is checked.
 *
 * <p>Sockets are opened from this JVM inside the namespaces (outside the agent's cgroup, so nothing is
 * redirected at the socket layer: these are the plain path's packets).
 */
@KernelTest
class MtuIT {
    private static final int UPLINK = 1500;
    private static final int JUMBO = 65535;
    private static final Pattern MSS = Pattern.compile("\\bmss:(\\d+)");

    private AgentUnderTest agent;
    private String v4Prefix;
    private String v6Prefix;
    private String outsideName;
    private Path outside;
    private String outsideVeth;
    private InetAddress outside4;
    private InetAddress outside6;

    @BeforeEach
    void start() throws Exception {
        // The outside veth is this test's uplink: its MTU, not the machine's default route's, is what pods get.
        agent = new AgentUnderTest(Map.of("io.patu.lifecycle", Map.of("uplinkMtu", UPLINK)));
        int third = Integer.parseInt(agent.id.substring(0, 2), 16);
        v4Prefix = "10.205." + third + ".";
        v6Prefix = "fd00:205:" + agent.id.substring(0, 4) + "::";
        outsideName = "pu-out-" + agent.id;
        outsideVeth = "pu" + agent.id + "o";
        outside = NetNs.create(outsideName);
        InetAddress host4 = InetAddress.ofLiteral("198.18." + third + ".1");
        InetAddress host6 = InetAddress.ofLiteral("fd00:18:" + agent.id.substring(0, 4) + "::1");
        outside4 = InetAddress.ofLiteral("198.18." + third + ".2");
        outside6 = InetAddress.ofLiteral("fd00:18:" + agent.id.substring(0, 4) + "::2");
        try (RtNetlink host = RtNetlink.open()) {
            host.createVethPair(outsideVeth, "eth0", outside);
            sysctl(null, "ipv6/conf/" + outsideVeth + "/accept_dad", "0");
            host.setMtu(outsideVeth, 1500);
            host.addAddress(outsideVeth, host4, 24);
            host.addAddress(outsideVeth, host6, 64);
            host.setUp(outsideVeth);
            try (RtNetlink world = RtNetlink.openIn(outside)) {
                sysctl(outside, "ipv6/conf/eth0/accept_dad", "0");
                world.setUp("lo");
                world.setMtu("eth0", 1500);
                world.addAddress("eth0", outside4, 24);
                world.addAddress("eth0", outside6, 64);
                world.setUp("eth0");
                world.addRoute(null, 0, host4, "eth0");
                world.addRoute(null, 0, host6, "eth0");
            }
        }
        forward(outsideVeth);
    }

    @AfterEach
    void stop() throws Exception {
        try (RtNetlink host = RtNetlink.open()) {
            host.deleteLink(outsideVeth);
        } finally {
            NetNs.delete(outsideName);
            if (agent != null) {
                agent.close();
                assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
            }
        }
    }

    private String netconf(String extra) {
        return """
                {"cniVersion": "1.1.0", "name": "patu-it-mtu", "type": "patu",%s
                 "ipam": {"type": "host-local",
                          "ranges": [[{"subnet": "%s0/24", "rangeStart": "%s10", "rangeEnd": "%s20"}],
                                     [{"subnet": "%s/64", "rangeStart": "%s10", "rangeEnd": "%s20"}]],
                          "routes": [{"dst": "192.168.205.0/24"}, {"dst": "fd00:9205::/48"}]}}"""
                .formatted(extra, v4Prefix, v4Prefix, v4Prefix, v6Prefix, v6Prefix, v6Prefix);
    }

    @Test
    void podsRunAtTheJumboMtuAndTheirRoutesOffTheNodeAtTheUplinks() throws Exception {
        try (TestPod pod = new TestPod(agent, "a", netconf(""))) {
            try (RtNetlink host = RtNetlink.open(); RtNetlink inPod = RtNetlink.openIn(pod.netns)) {
                assertEquals(JUMBO, host.link(agent.bridge).orElseThrow().mtu(), "bridge");
                assertEquals(JUMBO, host.link(pod.hostVeth).orElseThrow().mtu(), "host veth");
                Link eth0 = inPod.link("eth0").orElseThrow();
                assertEquals(JUMBO, eth0.mtu(), "pod interface");
                for (int family : List.of(RtNetlink.AF_INET, RtNetlink.AF_INET6)) {
                    List<Route> routes = inPod.routes(family).stream().filter(r -> r.outIfIndex() == eth0.index()).toList();
                    for (Route route : routes) {
                        boolean podSubnet = route.destination() != null && route.gateway() == null;
                        boolean offNode = route.prefixLength() == 0
                                || route.destination() != null && List.of("192.168.205.0", "fd00:9205:0:0:0:0:0:0")
                                        .contains(route.destination().getHostAddress());
                        if (offNode) {
                            assertEquals(UPLINK, route.mtu(), "route off the node: " + route);
                        } else if (podSubnet) {
                            assertEquals(0, route.mtu(), "route to the pod's subnet keeps the interface MTU: " + route);
                        }
                    }
                    assertEquals(2, routes.stream().filter(r -> r.mtu() == UPLINK).count(),
                            "default and extra route carry the uplink MTU: " + routes);
                }
            }
            // iproute2 reads the same metrics on its own.
            for (String family : List.of("-4", "-6")) {
                String shown = run("ip", "-n", pod.name, family, "route", "show", "default");
                assertTrue(shown.contains("mtu " + UPLINK), shown);
            }
            JsonNode interfaces = pod.result.get("interfaces");
            assertEquals(JUMBO, interfaces.get(0).get("mtu").asInt(), interfaces.toString());
            assertEquals(JUMBO, interfaces.get(1).get("mtu").asInt(), interfaces.toString());
            assertEquals(UPLINK, pod.result.get("routes").get(0).get("mtu").asInt(), pod.result.toString());

            ObjectNode withPrev = (ObjectNode) AgentUnderTest.JSON.readTree(pod.config);
            withPrev.set("prevResult", pod.result);
            AgentUnderTest.assertExit(0, agent.cni(pod.env("CHECK"), withPrev.toString()));
        }
    }

    @Test
    void podToPodAndPodToNodeCarryLargeTcpAndUdpWithoutFragmenting() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf("")); TestPod b = new TestPod(agent, "b", netconf(""))) {
            for (int family = 0; family < 2; family++) {
                InetAddress server = address(b, family);
                InetAddress gateway = gateway(b, family);
                long fragments = fragmentsCreated(a.netns);
                int mss = tcp(a.netns, a.name, b.netns, server, 32L << 20);
                assertTrue(mss > 60_000, "pod to pod TCP uses the jumbo MTU: mss " + mss);
                mss = tcp(a.netns, a.name, null, gateway, 32L << 20);
                assertTrue(mss > 60_000, "pod to the node's bridge address uses the jumbo MTU: mss " + mss);
                udp(a.netns, b.netns, server, 64, 60_000);
                udp(a.netns, null, gateway, 64, 60_000);
                assertEquals(fragments, fragmentsCreated(a.netns), "60 KB datagrams crossed whole");
            }
        }
    }

    @Test
    void trafficToTheOutsideIsSizedForTheUplinkAsOnAPlainHost() throws Exception {
        try (TestPod pod = new TestPod(agent, "a", netconf(""))) {
            forward(agent.bridge);
            for (int family = 0; family < 2; family++) {
                InetAddress world = family == 0 ? outside4 : outside6;
                int expectedMss = UPLINK - (family == 0 ? 40 : 60);
                int podMss = tcp(pod.netns, pod.name, outside, world, 16L << 20);
                int hostMss = tcp(null, null, outside, world, 4L << 20);
                assertEquals(hostMss, podMss, "pod and host send to the outside in segments of one size");
                assertTrue(podMss <= expectedMss, "mss " + podMss + " fits the uplink");
                int inwardMss = tcp(outside, outsideName, pod.netns, address(pod, family), 16L << 20);
                assertTrue(inwardMss <= expectedMss, "the pod advertised an MSS for the uplink: " + inwardMss);

                // Larger than the uplink without DF: fragmented by the sender, pod and host alike, and whole on arrival.
                long podFragments = fragmentsCreated(pod.netns);
                udp(pod.netns, outside, world, 32, 8000);
                assertTrue(fragmentsCreated(pod.netns) - podFragments >= 32 * 5, "the pod fragmented its datagrams");
                long hostFragments = fragmentsCreated(null);
                udp(null, outside, world, 32, 8000);
                assertTrue(fragmentsCreated(null) - hostFragments >= 32 * 5, "the host fragmented its datagrams");

                // With DF (IPv6: IPV6_DONTFRAG): the same largest datagram, the same EMSGSIZE one byte beyond it.
                int largest = UPLINK - (family == 0 ? 28 : 48);
                for (Path from : java.util.Arrays.asList(pod.netns, null)) {
                    String who = from == null ? "host" : "pod";
                    assertTrue(sendDontFragment(from, world, largest), who + ": " + largest + " bytes fit with DF");
                    assertTrue(!sendDontFragment(from, world, largest + 1), who + ": " + (largest + 1) + " bytes are EMSGSIZE");
                }
            }

            // Path MTU discovery still lowers the route below the uplink's MTU: the host's link beyond shrinks to
            // 1280 (only its end, so that the outside still advertises an MSS for 1500 and the host has to answer
            // the pod's 1500-byte segments with ICMP).
            try (RtNetlink host = RtNetlink.open()) {
                host.setMtu(outsideVeth, 1280);
            }
            for (int family = 0; family < 2; family++) {
                InetAddress world = family == 0 ? outside4 : outside6;
                tcp(pod.netns, pod.name, outside, world, 8L << 20);
                String cached = run("ip", "-n", pod.name, "route", "get", world.getHostAddress());
                assertTrue(cached.contains("mtu 1280"), "the pod learned the path MTU: " + cached);
            }
        }
    }

    @Test
    void theConflistMtuSetsTheAttachmentsVethsAndLeavesTheBridgeAlone() throws Exception {
        try (TestPod big = new TestPod(agent, "big", netconf("\"mtu\": 9000,"));
                TestPod small = new TestPod(agent, "small", netconf("\"mtu\": 1400,"))) {
            try (RtNetlink host = RtNetlink.open(); RtNetlink inBig = RtNetlink.openIn(big.netns);
                    RtNetlink inSmall = RtNetlink.openIn(small.netns)) {
                assertEquals(JUMBO, host.link(agent.bridge).orElseThrow().mtu(), "one small pod does not lower the bridge");
                assertEquals(9000, host.link(big.hostVeth).orElseThrow().mtu());
                assertEquals(9000, inBig.link("eth0").orElseThrow().mtu());
                assertEquals(1400, host.link(small.hostVeth).orElseThrow().mtu());
                assertEquals(1400, inSmall.link("eth0").orElseThrow().mtu());
                assertEquals(UPLINK, defaultRoute(inBig, RtNetlink.AF_INET).mtu(), "capped at the uplink");
                assertEquals(0, defaultRoute(inSmall, RtNetlink.AF_INET).mtu(), "below the uplink: no metric needed");
                assertEquals(0, defaultRoute(inSmall, RtNetlink.AF_INET6).mtu());
            }
            assertEquals(9000, big.result.get("interfaces").get(1).get("mtu").asInt());
            // TCP between pods of different MTUs agrees through the MSS.
            int mss = tcp(big.netns, big.name, small.netns, address(small, 0), 8L << 20);
            assertTrue(mss <= 1360, "mss " + mss);
        }
        AgentUnderTest.CniCall refused = agent.cni(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "mtu-" + agent.id,
                "CNI_NETNS", outside.toString(), "CNI_IFNAME", "eth1"), netconf("\"mtu\": 65536,"));
        assertEquals(7, refused.json().get("code").asInt(), refused.stdout());
        assertTrue(refused.json().get("msg").asText().contains("\"mtu\""), refused.stdout());
        try (RtNetlink world = RtNetlink.openIn(outside)) {
            assertTrue(world.link("eth1").isEmpty(), "a refused ADD created nothing");
        }
    }

    @Test
    void mtu1500IsThePlainLayoutAndUplinkZeroFollowsTheHostsDefaultRoute() throws Exception {
        try (AgentUnderTest plain = new AgentUnderTest(Map.of("io.patu.lifecycle", Map.of("mtu", 1500, "uplinkMtu", 1500)));
                TestPod pod = new TestPod(plain, "p", netconf(""));
                TestPod small = new TestPod(plain, "s", netconf("\"mtu\": 1400,"))) {
            try (RtNetlink host = RtNetlink.open(); RtNetlink inPod = RtNetlink.openIn(pod.netns)) {
                // Created at 1500 for mtu 1500, the bridge was still set explicitly: a 1400 port does not lower it.
                assertEquals(1500, host.link(plain.bridge).orElseThrow().mtu());
                assertEquals(1400, host.link(small.hostVeth).orElseThrow().mtu());
                assertEquals(1500, host.link(pod.hostVeth).orElseThrow().mtu());
                assertEquals(1500, inPod.link("eth0").orElseThrow().mtu());
                for (int family : List.of(RtNetlink.AF_INET, RtNetlink.AF_INET6)) {
                    assertTrue(inPod.routes(family).stream().allMatch(r -> r.mtu() == 0),
                            "no route carries an MTU: " + inPod.routes(family));
                }
            }
        }
        // uplinkMtu 0 (the default): the MTU of the device the host's default route goes through, read here
        // from iproute2 and sysfs.
        try (AgentUnderTest auto = new AgentUnderTest(); TestPod pod = new TestPod(auto, "q", netconf(""))) {
            for (String family : List.of("-4", "-6")) {
                int expected = hostUplinkMtu(family);
                String shown = run("ip", "-n", pod.name, family, "route", "show", "default");
                assertTrue(expected >= JUMBO ? !shown.contains(" mtu ") : shown.contains("mtu " + expected + " "),
                        "uplink " + expected + ": " + shown);
            }
        }
    }

    private static int hostUplinkMtu(String family) throws Exception {
        String routes = run("ip", family, "route", "show", "default");
        Matcher dev = Pattern.compile("\\bdev (\\S+)").matcher(routes);
        int lowest = Integer.MAX_VALUE;
        while (dev.find()) {
            lowest = Math.min(lowest, Integer.parseInt(Files.readString(Path.of("/sys/class/net", dev.group(1), "mtu")).trim()));
        }
        Matcher metric = Pattern.compile("\\bmtu (\\d+)").matcher(routes);
        while (metric.find()) {
            lowest = Math.min(lowest, Integer.parseInt(metric.group(1)));
        }
        return lowest == Integer.MAX_VALUE ? 1500 : lowest;
    }

    private static Route defaultRoute(RtNetlink inPod, int family) {
        return inPod.routes(family).stream().filter(r -> r.prefixLength() == 0).findFirst().orElseThrow();
    }

    private static InetAddress address(TestPod pod, int family) {
        return ip(pod.result.get("ips").get(family).get("address").asText());
    }

    private static InetAddress gateway(TestPod pod, int family) {
        return InetAddress.ofLiteral(pod.result.get("ips").get(family).get("gateway").asText());
    }

    private static InetAddress ip(String cidr) {
        return InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
    }

    /** Per-device forwarding for both families, so that only this test's devices route (the machine's setting stays). */
    private static void forward(String device) throws Exception {
        sysctl(null, "ipv4/conf/" + device + "/forwarding", "1");
        sysctl(null, "ipv6/conf/" + device + "/force_forwarding", "1");
    }

    private static void sysctl(Path netns, String key, String value) throws Exception {
        Path file = Path.of("/proc/sys/net", key);
        if (netns == null) {
            Files.writeString(file, value);
        } else {
            NetNs.callIn(netns, () -> Files.writeString(file, value));
        }
    }

    private static <T> T in(Path netns, java.util.concurrent.Callable<T> action) throws Exception {
        return netns == null ? action.call() : NetNs.callIn(netns, action);
    }

    /**
     * Sends {@code bytes} of a position-dependent pattern from a socket opened in {@code clientNs} (null: the
     * host) to one listening in {@code serverNs}, checks every byte, and returns the client's MSS while the
     * connection is still open ({@code ss}, in the namespace named {@code clientName}).
     */
    private static int tcp(Path clientNs, String clientName, Path serverNs, InetAddress server, long bytes) throws Exception {
        try (ServerSocket listener = in(serverNs, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(server, 0));
            return s;
        })) {
            int port = listener.getLocalPort();
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                try (Socket accepted = listener.accept(); InputStream in = accepted.getInputStream()) {
                    byte[] buffer = new byte[1 << 16];
                    long offset = 0;
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        for (int i = 0; i < n; i++) {
                            if (buffer[i] != StreamCheck.expected(offset + i)) {
                                throw new IllegalStateException("wrong byte at offset " + (offset + i));
                            }
                        }
                        offset += n;
                    }
                    return offset;
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            int mss;
            try (Socket client = in(clientNs, () -> new Socket(server, port))) {
                OutputStream out = client.getOutputStream();
                byte[] chunk = new byte[1 << 16];
                for (long offset = 0; offset < bytes; offset += chunk.length) {
                    int length = (int) Math.min(chunk.length, bytes - offset);
                    for (int i = 0; i < length; i++) {
                        chunk[i] = StreamCheck.expected(offset + i);
                    }
                    out.write(chunk, 0, length);
                }
                String ss = clientName == null
                        ? run("ss", "-tinH", "dst", socketText(server, port))
                        : run("ip", "netns", "exec", clientName, "ss", "-tinH", "dst", socketText(server, port));
                Matcher m = MSS.matcher(ss);
                assertTrue(m.find(), "ss shows the connection's mss: " + ss);
                mss = Integer.parseInt(m.group(1));
            }
            assertEquals(bytes, received.get(120, TimeUnit.SECONDS), "every byte arrived, in order");
            return mss;
        }
    }

    private static String socketText(InetAddress address, int port) {
        return (address instanceof Inet4Address ? address.getHostAddress() : "[" + address.getHostAddress() + "]") + ":" + port;
    }

    /**
     * {@code count} datagrams of {@code size} bytes from {@code clientNs} to {@code serverNs}, one at a time, each
     * acknowledged: every one must arrive whole, its content intact.
     */
    private static void udp(Path clientNs, Path serverNs, InetAddress server, int count, int size) throws Exception {
        try (DatagramSocket listener = in(serverNs, () -> new DatagramSocket(new InetSocketAddress(server, 0)));
                DatagramSocket client = in(clientNs, DatagramSocket::new)) {
            listener.setSoTimeout(10_000);
            client.setSoTimeout(10_000);
            CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
                byte[] buffer = new byte[65_536];
                for (int i = 0; i < count; i++) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    try {
                        listener.receive(packet);
                        ByteBuffer data = ByteBuffer.wrap(buffer, 0, packet.getLength());
                        int index = data.getInt(0);
                        if (packet.getLength() != size || index != i) {
                            throw new IllegalStateException("datagram " + i + ": " + packet.getLength() + " bytes, index " + index);
                        }
                        for (int k = 4; k < size; k++) {
                            if (buffer[k] != StreamCheck.expected((long) i * size + k)) {
                                throw new IllegalStateException("datagram " + i + " damaged at " + k);
                            }
                        }
                        listener.send(new DatagramPacket(buffer, 4, packet.getSocketAddress()));
                    } catch (IOException e) {
                        throw new IllegalStateException("datagram " + i + " did not arrive", e);
                    }
                }
                return count;
            });
            byte[] datagram = new byte[size];
            byte[] ack = new byte[4];
            InetSocketAddress target = new InetSocketAddress(server, listener.getLocalPort());
            for (int i = 0; i < count; i++) {
                ByteBuffer.wrap(datagram).putInt(0, i);
                for (int k = 4; k < size; k++) {
                    datagram[k] = StreamCheck.expected((long) i * size + k);
                }
                client.send(new DatagramPacket(datagram, size, target));
                try {
                    client.receive(new DatagramPacket(ack, 4));
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("datagram " + i + " of " + size + " bytes to " + server + " was not acknowledged: "
                            + served.handle((v, t) -> String.valueOf(t)).getNow("server still waiting"));
                }
            }
            assertEquals(count, served.get(30, TimeUnit.SECONDS));
        }
    }

    /** True when a datagram of {@code size} bytes with DF set leaves; false when the send fails with EMSGSIZE. */
    private static boolean sendDontFragment(Path netns, InetAddress target, int size) throws Exception {
        try (DatagramChannel channel = in(netns, () -> DatagramChannel.open(
                target instanceof Inet4Address ? java.net.StandardProtocolFamily.INET : java.net.StandardProtocolFamily.INET6))) {
            channel.setOption(jdk.net.ExtendedSocketOptions.IP_DONTFRAGMENT, true);
            try {
                channel.send(ByteBuffer.allocate(size), new InetSocketAddress(target, 9));
                return true;
            } catch (IOException e) {
                assertTrue(String.valueOf(e.getMessage()).contains("Message too long"), e.toString());
                return false;
            }
        }
    }

    /** IPv4 and IPv6 fragments the namespace's stack created (null: the host's). */
    private static long fragmentsCreated(Path netns) throws Exception {
        return in(netns, () -> {
            // thread-self: /proc/self/net would show the namespace of the process's main thread.
            List<String> snmp = Files.readAllLines(Path.of("/proc/thread-self/net/snmp"));
            long v4 = 0;
            for (int i = 0; i + 1 < snmp.size(); i++) {
                if (snmp.get(i).startsWith("Ip: Forwarding")) {
                    List<String> names = List.of(snmp.get(i).split("\\s+"));
                    v4 = Long.parseLong(snmp.get(i + 1).split("\\s+")[names.indexOf("FragCreates")]);
                }
            }
            long v6 = Files.readAllLines(Path.of("/proc/thread-self/net/snmp6")).stream()
                    .filter(l -> l.startsWith("Ip6FragCreates")).mapToLong(l -> Long.parseLong(l.split("\\s+")[1]))
                    .sum();
            return v4 + v6;
        });
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }
}
