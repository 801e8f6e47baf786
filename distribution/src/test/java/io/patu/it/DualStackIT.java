package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Route;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.testing.KernelTest;

/**
 * Dual stack end to end: a network configuration whose {@code ipam} object has an IPv4 and an IPv6 range
 * set gives every pod one address of each family, both default routes and the configured extra route;
 * pods talk over both families, and IPv6 TCP between them is redirected at the socket layer like IPv4.
 */
@KernelTest
class DualStackIT {
    private static final long MIB = 1 << 20;

    private AgentUnderTest agent;
    private String v4Prefix;
    private String v6Prefix;

    @BeforeEach
    void startAgent() throws Exception {
        agent = new AgentUnderTest();
        // Unique per agent, and apart from the agent's own subnet (10.203.x.0/24).
        v4Prefix = "10.204." + Integer.parseInt(agent.id.substring(0, 2), 16) + ".";
        v6Prefix = "fd00:204:" + agent.id.substring(0, 4) + "::";
    }

    @AfterEach
    void removeEverything() throws Exception {
        if (agent != null) {
            agent.close();
            assertEquals(java.util.Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
        }
    }

    private String netconf(String extra) {
        return """
                {"cniVersion": "1.0.0", "name": "patu-it-ds", "type": "patu",%s
                 "ipam": {"type": "host-local",
                          "ranges": [[{"subnet": "%s0/24", "rangeStart": "%s10", "rangeEnd": "%s20"}],
                                     [{"subnet": "%s/64", "rangeStart": "%s10", "rangeEnd": "%s20"}]],
                          "routes": [{"dst": "192.168.204.0/24"}, {"dst": "fd00:9204::/48"}]}}"""
                .formatted(extra, v4Prefix, v4Prefix, v4Prefix, v6Prefix, v6Prefix, v6Prefix);
    }

    private static List<InetAddress> addresses(TestPod pod) {
        List<InetAddress> out = new ArrayList<>();
        for (JsonNode ip : pod.result.get("ips")) {
            String cidr = ip.get("address").asText();
            out.add(InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/'))));
        }
        return out;
    }

    private static InetAddress ipv6Of(TestPod pod) {
        return addresses(pod).stream().filter(a -> a instanceof Inet6Address).findFirst().orElseThrow();
    }

    @Test
    void podsGetOneAddressOfEachFamilyWithRoutesAndConnectOverBoth() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf("")); TestPod b = new TestPod(agent, "b", netconf(""))) {
            List<InetAddress> addresses = addresses(b);
            assertEquals(2, addresses.size(), b.result.toString());
            assertEquals(InetAddress.ofLiteral(v4Prefix + "11"), addresses.get(0), "second address of the IPv4 range");
            assertEquals(InetAddress.ofLiteral(v6Prefix + "11"), addresses.get(1), "second address of the IPv6 range");
            InetAddress gateway4 = InetAddress.ofLiteral(v4Prefix + "1");
            InetAddress gateway6 = InetAddress.ofLiteral(v6Prefix + "1");
            assertEquals(gateway6, InetAddress.ofLiteral(b.result.get("ips").get(1).get("gateway").asText()));

            try (RtNetlink inPod = RtNetlink.openIn(b.netns)) {
                List<Address> present = inPod.addresses("eth0");
                assertTrue(present.contains(new Address(addresses.get(0), 24)), "IPv4 address on eth0: " + present);
                assertTrue(present.contains(new Address(addresses.get(1), 64)), "IPv6 address on eth0: " + present);
                List<Route> routes4 = inPod.routes(RtNetlink.AF_INET);
                assertTrue(routes4.stream().anyMatch(r -> r.destination() == null && gateway4.equals(r.gateway())),
                        "IPv4 default route: " + routes4);
                assertTrue(routes4.stream().anyMatch(r -> r.destination() != null && r.prefixLength() == 24
                        && r.destination().equals(InetAddress.ofLiteral("192.168.204.0")) && gateway4.equals(r.gateway())),
                        "extra IPv4 route: " + routes4);
                List<Route> routes6 = inPod.routes(RtNetlink.AF_INET6);
                assertTrue(routes6.stream().anyMatch(r -> (r.destination() == null || r.prefixLength() == 0)
                        && gateway6.equals(r.gateway())), "IPv6 default route: " + routes6);
                assertTrue(routes6.stream().anyMatch(r -> r.prefixLength() == 48
                        && InetAddress.ofLiteral("fd00:9204::").equals(r.destination()) && gateway6.equals(r.gateway())),
                        "extra IPv6 route: " + routes6);
            }
            try (RtNetlink host = RtNetlink.open()) {
                List<Address> bridge = host.addresses(agent.bridge);
                assertTrue(bridge.contains(new Address(gateway4, 24)) && bridge.contains(new Address(gateway6, 64)),
                        "both gateways on the bridge: " + bridge);
            }
            assertEquals(4, agent.localPodKeys().size(), "redirection enabled for both addresses of both pods");

            // Right after ADD, with no wait for duplicate address detection.
            assertTrue(PodTraffic.send(agent, a, ipv6Of(a), b, MIB, "16K") >= MIB, "IPv6 TCP from b to a");
            assertTrue(PodTraffic.send(agent, a, addresses(a).get(0), b, MIB, "16K") >= MIB, "IPv4 TCP from b to a");
            AgentUnderTest.assertExit(0, agent.cni(b.env("CHECK"), b.config));

            JsonNode leases = AgentUnderTest.JSON.readTree(agent.stateDir.resolve("ipam/leases.json").toFile());
            assertEquals(2, leases.get("rangeSets").size(), leases.toString());
            assertEquals(2, leases.get("leases").get(1).get("addresses").size(), leases.toString());
        }
        assertEquals(List.of(), agent.localPodKeys(), "every address left the redirect map on DEL");
    }

    @Test
    void ipv6TcpBetweenPodsSkipsTheVethsThroughSocketRedirection() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf("")); TestPod b = new TestPod(agent, "b", netconf(""))) {
            System.out.println("DualStackIT IPv6: " + PodTraffic.assertRedirected(agent, a, ipv6Of(a), b, 64 * MIB, "128K"));
        }
    }

    @Test
    void requestedAddressesAreGivenAndATakenOneIsRefused() throws Exception {
        String request = """
                 "capabilities": {"ips": true}, "runtimeConfig": {"ips": ["%s77/24", "%s77/64"]},"""
                .formatted(v4Prefix, v6Prefix);
        // 77 is outside rangeStart..rangeEnd: requests must be inside a range.
        AssertionError outside = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> new TestPod(agent, "x", netconf(request)));
        assertTrue(outside.getMessage().contains("\"code\":7") && outside.getMessage().contains("outside every range"),
                outside.getMessage());

        String inside = """
                 "capabilities": {"ips": true}, "runtimeConfig": {"ips": ["%s15/24", "%s15/64"]},"""
                .formatted(v4Prefix, v6Prefix);
        try (TestPod a = new TestPod(agent, "a", netconf(inside))) {
            assertEquals(List.of(InetAddress.ofLiteral(v4Prefix + "15"), InetAddress.ofLiteral(v6Prefix + "15")), addresses(a));
            AssertionError taken = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                    () -> new TestPod(agent, "b", netconf(inside)));
            assertTrue(taken.getMessage().contains("\"code\":7") && taken.getMessage().contains("already leased"),
                    taken.getMessage());
        }
    }

    @Test
    void invalidIpamIsASpecErrorAndChangesNothing() throws Exception {
        Map<String, String> env = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "bad-" + agent.id,
                "CNI_NETNS", "/proc/self/ns/net", "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
        for (String ipam : List.of(
                "{\"ranges\": [[{\"subnet\": \"10.204.0.1/24\"}]]}",
                "{\"ranges\": [[{\"subnet\": \"10.204.0.0/24\", \"gateway\": \"10.205.0.1\"}]]}",
                "{\"subnet\": \"10.204.0.0/24\", \"rangeStart\": \"10.204.0.50\", \"rangeEnd\": \"10.204.0.40\"}",
                "{\"ranges\": [[{\"subnet\": \"10.204.0.0/24\"}], [{\"subnet\": \"10.204.0.0/25\"}]]}")) {
            AgentUnderTest.CniCall call = agent.cni(env,
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it-ds\",\"type\":\"patu\",\"ipam\":" + ipam + "}");
            assertTrue(call.exitCode() != 0, call.stdout());
            assertEquals(7, call.json().get("code").asInt(), ipam + " -> " + call.stdout());
        }
        try (RtNetlink host = RtNetlink.open()) {
            assertTrue(host.link(agent.bridge).isEmpty(), "no bridge or veth created");
        }
        assertFalse(java.nio.file.Files.exists(agent.stateDir.resolve("ipam/leases.json")), "no lease written");
    }
}
