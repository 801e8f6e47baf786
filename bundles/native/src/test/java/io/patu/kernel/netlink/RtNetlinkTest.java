package io.patu.kernel.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@KernelTest
class RtNetlinkTest {
    private static final String POD_IF = "eth0"; // the peer lives in its own netns, so a fixed name cannot clash

    private final int subnet = 1 + new SecureRandom().nextInt(250);
    private String netnsName;
    private Path netns;
    private String bridge;
    private String hostVeth;
    private RtNetlink host;

    @BeforeEach
    void setUp() {
        netnsName = TestNames.unique("ptn-", 8);
        bridge = TestNames.unique("ptb", 8);
        hostVeth = TestNames.unique("pt", 8);
        netns = NetNs.create(netnsName);
        host = RtNetlink.open();
    }

    @AfterEach
    void tearDown() {
        try {
            host.deleteLink(hostVeth);
            host.deleteLink(bridge);
            assertTrue(host.link(hostVeth).isEmpty());
            assertTrue(host.link(bridge).isEmpty());
        } finally {
            host.close();
            NetNs.delete(netnsName);
        }
    }

    private InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text.replace("X", Integer.toString(subnet)));
    }

    @Test
    void bridgeAndVethIntoANamespaceCarryTraffic() throws Exception {
        InetAddress bridgeIp = ip("10.231.X.1");
        InetAddress podIp = ip("10.231.X.2");
        InetAddress bridgeIp6 = ip("fd00:231:X::1");

        host.createBridge(bridge);
        host.createVethPair(hostVeth, POD_IF, netns);
        host.setMaster(hostVeth, bridge);
        host.setMtu(bridge, 1400);
        host.setUp(bridge);
        host.setUp(hostVeth);
        host.addAddress(bridge, bridgeIp, 24);
        host.addAddress(bridge, bridgeIp6, 64);

        try (RtNetlink pod = RtNetlink.openIn(netns)) {
            assertFalse(host.link(POD_IF).map(l -> l.kind().equals("veth")).orElse(false),
                    "the peer was created in the pod namespace, not on the host");
            pod.setUp("lo");
            pod.setUp(POD_IF);
            pod.addAddress(POD_IF, podIp, 24);
            pod.addRoute(null, 0, bridgeIp, POD_IF);

            Link bridgeLink = host.link(bridge).orElseThrow();
            Link hostEnd = host.link(hostVeth).orElseThrow();
            Link podEnd = pod.link(POD_IF).orElseThrow();
            assertEquals("bridge", bridgeLink.kind());
            assertTrue(bridgeLink.up());
            assertEquals(1400, bridgeLink.mtu());
            assertTrue(bridgeLink.mac().matches("([0-9a-f]{2}:){5}[0-9a-f]{2}"), bridgeLink.mac());
            assertEquals("veth", hostEnd.kind());
            assertEquals(bridgeLink.index(), hostEnd.masterIndex());
            assertEquals(0, bridgeLink.masterIndex());
            assertEquals("veth", podEnd.kind());
            assertTrue(podEnd.up());
            Link byIndex = pod.link(podEnd.index()).orElseThrow();
            assertEquals(List.of(podEnd.name(), podEnd.kind(), podEnd.mac()), List.of(byIndex.name(), byIndex.kind(), byIndex.mac()));
            assertTrue(host.links().stream().anyMatch(l -> l.name().equals(bridge)));
            assertTrue(pod.links().stream().map(Link::name).toList().containsAll(List.of("lo", POD_IF)));
            assertFalse(pod.links().stream().anyMatch(l -> l.name().equals(bridge)), "the pod sees its own links only");

            assertTrue(host.addresses(bridge).contains(new Address(bridgeIp, 24)));
            assertTrue(host.addresses(bridge).contains(new Address(bridgeIp6, 64)));
            assertEquals(List.of(new Address(podIp, 24)),
                    pod.addresses(POD_IF).stream().filter(a -> a.address().getAddress().length == 4).toList());

            List<Route> podRoutes = pod.routes(RtNetlink.AF_INET);
            assertTrue(podRoutes.contains(new Route(null, 0, bridgeIp, podEnd.index())), podRoutes.toString());
            assertTrue(podRoutes.contains(new Route(ip("10.231.X.0"), 24, null, podEnd.index())), podRoutes.toString());
            assertTrue(host.routes(RtNetlink.AF_INET6).stream()
                    .anyMatch(r -> r.outIfIndex() == bridgeLink.index() && r.prefixLength() == 64));

            NativeException duplicate = assertThrows(NativeException.class, () -> pod.addAddress(POD_IF, podIp, 24));
            assertEquals(Errno.EEXIST, duplicate.errno());

            // TCP from inside the pod to the bridge address proves the whole path both ways (ARP, bridge
            // forwarding, default route) without depending on a ping binary being installed.
            try (ServerSocket server = new ServerSocket(0, 1, bridgeIp)) {
                String reply = NetNs.callIn(netns, () -> {
                    try (Socket client = new Socket()) {
                        client.connect(new InetSocketAddress(bridgeIp, server.getLocalPort()), 3000);
                        try (Socket accepted = server.accept()) {
                            accepted.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                            return new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII);
                        }
                    }
                });
                assertEquals("pong", reply);
            }
            Link afterPing = pod.link(POD_IF).orElseThrow();
            assertTrue(afterPing.txPackets() > 0 && afterPing.txBytes() > 0, afterPing.toString());
            assertTrue(afterPing.rxPackets() > 0 && afterPing.rxBytes() > 0, afterPing.toString());

            assertTrue(host.deleteLink(hostVeth));
            assertFalse(host.deleteLink(hostVeth));
            assertTrue(pod.link(POD_IF).isEmpty(), "deleting one end of a veth removes its peer");
        }
    }

    @Test
    void creatingAnExistingLinkFailsWithEexist() {
        host.createBridge(bridge);
        NativeException e = assertThrows(NativeException.class, () -> host.createBridge(bridge));
        assertEquals(Errno.EEXIST, e.errno());
        assertTrue(e.getMessage().startsWith("RTM_NEWLINK(bridge " + bridge + ") failed: File exists (errno 17)"),
                e.getMessage());
    }

    @Test
    void missingLinksAreEmptyOrEnodev() {
        assertTrue(host.link(hostVeth).isEmpty());
        assertTrue(host.link(Integer.MAX_VALUE).isEmpty());
        assertFalse(host.deleteLink(hostVeth));
        NativeException e = assertThrows(NativeException.class, () -> host.setUp(hostVeth));
        assertEquals(Errno.ENODEV, e.errno());
        assertTrue(e.operation().contains(hostVeth), e.operation());
        assertTrue(host.links().stream().anyMatch(l -> l.name().equals("lo") && l.index() == 1));
    }

    @Test
    void badInterfaceNamesAreRefusedBeforeAnythingIsSent() {
        // A closed socket would fail any request with IllegalStateException: only validation can answer first.
        RtNetlink closed = RtNetlink.open();
        closed.close();
        for (String bad : List.of("", "a/b", "with space", "tab\tx", "nul\0x", ".", "..", "abcdefghijklmnop",
                "ääääääää", "a:b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> closed.createBridge(bad),
                    "'" + bad + "'");
            assertTrue(e.getMessage().contains("interface name"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> closed.createVethPair("ok", bad, null));
            assertThrows(IllegalArgumentException.class, () -> closed.link(bad));
        }
        assertThrows(IllegalStateException.class, () -> closed.link("abcdefghijklmno"), "15 bytes is allowed");
    }

    @Test
    void routeMtuMetricIsWrittenAndReadBackInBothFamilies() throws Exception {
        InetAddress gateway = ip("10.231.X.1");
        InetAddress gateway6 = ip("fd00:231:X::1");
        host.createVethPair(hostVeth, POD_IF, netns);
        try (RtNetlink pod = RtNetlink.openIn(netns)) {
            pod.setMtu(POD_IF, 9000);
            pod.setUp(POD_IF);
            pod.addAddress(POD_IF, ip("10.231.X.2"), 24);
            pod.addAddress(POD_IF, ip("fd00:231:X::2"), 64);
            pod.addRoute(null, 0, gateway, POD_IF, 1400);
            pod.addRoute(ip("192.0.2.0"), 24, gateway, POD_IF);
            pod.addRoute(null, 0, gateway6, POD_IF, 1280);
            int index = pod.link(POD_IF).orElseThrow().index();

            List<Route> routes4 = pod.routes(RtNetlink.AF_INET);
            assertTrue(routes4.contains(new Route(null, 0, gateway, index, 1400)), routes4.toString());
            assertTrue(routes4.contains(new Route(ip("192.0.2.0"), 24, gateway, index, 0)),
                    "a route without a metric reads back as mtu 0: " + routes4);
            List<Route> routes6 = pod.routes(RtNetlink.AF_INET6);
            assertTrue(routes6.contains(new Route(null, 0, gateway6, index, 1280)), routes6.toString());

            // iproute2 decodes the same metric on its own, and the kernel's route lookup applies it.
            String shown = Commands.check("ip", "-n", netnsName, "-4", "route", "show", "default");
            assertTrue(shown.contains("mtu 1400"), shown);
            String lookup = Commands.check("ip", "-n", netnsName, "-6", "route", "get", "2001:db8::1");
            assertTrue(lookup.contains("mtu 1280"), lookup);
        }
    }

    @Test
    void routeArgumentsAreChecked() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> host.addRoute(null, 0, ip("10.231.X.1"), null, 67));
        assertThrows(IllegalArgumentException.class, () -> host.addRoute(null, 0, ip("10.231.X.1"), null, -1));
        assertThrows(IllegalArgumentException.class, () -> host.addRoute(null, 0, null, bridge));
        assertThrows(IllegalArgumentException.class, () -> host.addRoute(ip("10.231.X.0"), 33, ip("10.231.X.1"), null));
        assertThrows(IllegalArgumentException.class, () -> host.addRoute(ip("10.231.X.0"), 24, ip("fd00::1"), null));
    }
}
