package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;

/**
 * Egress end to end: an "outside" namespace reachable from the host only through one veth, with addresses of
 * its own (the 198.18.0.0/15 benchmark range and a unique local /64), runs a TCP server. A pod connecting to
 * it arrives with the node's address (the host end of that veth); a pod connecting to another pod arrives
 * with its own; so does a pod connecting to an excluded destination. IPv4 and IPv6, the pods' addresses
 * coming from a network configuration's ipam ranges. After the agent stops, and after a crashed agent is
 * purged, nothing of Patu's is left in nftables, and a table the test made itself is still there.
 */
@KernelTest
class EgressIT {
    private static final int PORT = 18080;

    private AgentUnderTest agent;
    private String outsideName;
    private Path outside;
    private String hostVeth;
    private String ownTable;
    private String v4;
    private String v6;
    private String podV4;
    private String podV6;

    @BeforeEach
    void setUp() throws Exception {
        String id = io.patu.kernel.testing.TestNames.unique("", 6);
        int third = Integer.parseInt(id.substring(0, 2), 16);
        // 198.18.0.0/15 (RFC 2544) and a ULA: never a range the host routes elsewhere.
        // A group of four hex digits with no leading zero (0x1000-0xffff): nft prints IPv6 prefixes without
        // them, and the ruleset is compared as text below (an id starting with 0 failed that once).
        String group = Integer.toHexString(0x1000 | Integer.parseInt(id.substring(0, 4), 16));
        v4 = "198.18." + third + ".";
        v6 = "fd00:18:" + group + "::";
        podV4 = "10.205." + third + ".";
        podV6 = "fd00:205:" + group + "::";
        ownTable = "pe_keep_" + id;
        // A table of the test's own, which nothing of Patu's may touch.
        Commands.check("nft", "add table ip " + ownTable + "; add chain ip " + ownTable + " keep { type filter hook forward priority 10; policy accept; }");
        agent = new AgentUnderTest(Map.of("io.patu.egress", Map.of("masqueradeIpv6", true,
                "excludedDestinations", List.of(v4 + "3/32", v6 + "3/128"))));
        outsideName = "pe-out-" + id;
        outside = NetNs.create(outsideName);
        hostVeth = "peh" + id;
        Commands.check("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "peo" + id, "netns", outsideName);
        Commands.check("ip", "addr", "add", v4 + "1/24", "dev", hostVeth);
        Commands.check("ip", "addr", "add", v6 + "1/64", "dev", hostVeth, "nodad");
        Commands.check("ip", "link", "set", hostVeth, "up");
        String in = "peo" + id;
        for (String[] command : List.of(
                new String[] {"ip", "addr", "add", v4 + "2/24", "dev", in},
                new String[] {"ip", "addr", "add", v4 + "3/24", "dev", in},
                new String[] {"ip", "addr", "add", v6 + "2/64", "dev", in, "nodad"},
                new String[] {"ip", "addr", "add", v6 + "3/64", "dev", in, "nodad"},
                new String[] {"ip", "link", "set", in, "up"},
                new String[] {"ip", "link", "set", "lo", "up"},
                // Replies to excluded destinations go back to the pods' own addresses through the node.
                new String[] {"ip", "route", "add", "default", "via", v4 + "1"},
                new String[] {"ip", "-6", "route", "add", "default", "via", v6 + "1"})) {
            List<String> inNs = new ArrayList<>(List.of("ip", "netns", "exec", outsideName));
            inNs.addAll(List.of(command));
            Commands.check(inNs.toArray(String[]::new));
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (agent != null) {
                agent.close();
                assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
            }
        } finally {
            Commands.run("ip", "link", "del", hostVeth);
            NetNs.delete(outsideName);
            Commands.run("nft", "delete", "table", "ip", ownTable);
        }
    }

    private String netconf() {
        return """
                {"cniVersion": "1.0.0", "name": "patu-it-egress", "type": "patu",
                 "ipam": {"type": "host-local",
                          "ranges": [[{"subnet": "%s0/24"}], [{"subnet": "%s/64"}]]}}"""
                .formatted(podV4, podV6);
    }

    private static InetAddress addressOf(TestPod pod, boolean ipv4) {
        for (JsonNode ip : pod.result.get("ips")) {
            String cidr = ip.get("address").asText();
            InetAddress address = InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
            if ((address instanceof Inet4Address) == ipv4) {
                return address;
            }
        }
        throw new AssertionError("no " + (ipv4 ? "IPv4" : "IPv6") + " address in " + pod.result);
    }

    /** The source address a TCP server in {@code serverNetns} sees when {@code client} connects to {@code to}. */
    private static InetAddress seenSource(Path serverNetns, Path clientNetns, InetAddress to) throws Exception {
        try (ServerSocket server = NetNs.callIn(serverNetns, () -> {
            ServerSocket socket = new ServerSocket();
            socket.bind(new InetSocketAddress(to instanceof Inet6Address ? InetAddress.ofLiteral("::") : InetAddress.ofLiteral("0.0.0.0"), PORT));
            socket.setSoTimeout(10_000);
            return socket;
        })) {
            try (Socket client = NetNs.callIn(clientNetns, () -> {
                Socket socket = new Socket();
                socket.connect(new InetSocketAddress(to, PORT), 10_000);
                return socket;
            }); Socket accepted = server.accept()) {
                client.getOutputStream().write(42);
                assertEquals(42, accepted.getInputStream().read(), "a byte crosses the connection");
                return accepted.getInetAddress();
            }
        }
    }

    @Test
    void podsReachTheOutsideAsTheNodeAndEachOtherAsThemselves() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf()); TestPod b = new TestPod(agent, "b", netconf())) {
            for (boolean ipv4 : new boolean[] {true, false}) {
                String prefix = ipv4 ? v4 : v6;
                String family = ipv4 ? "IPv4" : "IPv6";
                InetAddress node = InetAddress.ofLiteral(prefix + "1");
                InetAddress podA = addressOf(a, ipv4);
                assertEquals(node, seenSource(outside, a.netns, InetAddress.ofLiteral(prefix + "2")),
                        family + ": the outside sees the node's address");
                assertEquals(podA, seenSource(outside, a.netns, InetAddress.ofLiteral(prefix + "3")),
                        family + ": an excluded destination sees the pod's address");
                assertEquals(podA, seenSource(b.netns, a.netns, addressOf(b, ipv4)),
                        family + ": another pod sees the pod's address");
            }
            String table = AgentUnderTest.nftRuleset();
            assertTrue(table.contains("table inet " + agent.egressTable + " {"), table);
            assertTrue(table.contains(podV4 + "0/24") && table.contains(podV6 + "/64"), "the conflist's ranges are the pod subnets: " + table);
            String shown = agent.shell("patu:egress").stdout();
            assertTrue(shown.contains(podV4 + "0/24"), shown);
            // One connection a family went to the masqueraded destination; the excluded one and the one
            // between pods never met the masquerade rule.
            for (String family : List.of("IPv4", "IPv6")) {
                String row = shown.lines().filter(l -> l.startsWith(family + " ")).findFirst().orElseThrow(() -> new AssertionError(shown));
                assertEquals("1", row.split("\\s{2,}")[3], "connections masqueraded, " + family + ": " + shown);
            }
        }
        agent.stopAgent();
        String after = AgentUnderTest.nftRuleset();
        assertFalse(after.contains(agent.egressTable), "the stopped agent removed its table:\n" + after);
        assertFalse(after.contains("patu"), "nothing of Patu's in nftables:\n" + after);
        assertTrue(after.contains("table ip " + ownTable + " {"), "the test's own table is untouched:\n" + after);
    }

    @Test
    void disablingTheFeatureRemovesItsTableAndEnablingItMasqueradesThePodsAgain() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf())) {
            InetAddress node = InetAddress.ofLiteral(v4 + "1");
            InetAddress outsideServer = InetAddress.ofLiteral(v4 + "2");
            assertEquals(node, seenSource(outside, a.netns, outsideServer));
            AgentUnderTest.assertExit(0, agent.shell("patu:disable egress"));
            assertFalse(AgentUnderTest.nftRuleset().contains(agent.egressTable), "the stopped feature removed its table");
            // The outside routes the pods' subnet back through the node, so without masquerade it sees the pod.
            assertEquals(addressOf(a, true), seenSource(outside, a.netns, outsideServer));
            // A conflist that asks for masquerade is refused while nothing masquerades.
            String asking = netconf().replace("\"type\": \"patu\",", "\"type\": \"patu\", \"ipMasq\": true,");
            AgentUnderTest.CniCall refused = agent.cni(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "pe-ipmasq-" + agent.id,
                    "CNI_NETNS", a.netns.toString(), "CNI_IFNAME", "eth9"), asking);
            assertEquals(7, refused.json().get("code").asInt(), refused.stdout());
            assertTrue(refused.json().get("msg").asText().contains("ipMasq"), refused.stdout());
            AgentUnderTest.assertExit(0, agent.shell("patu:enable egress"));
            // Enabled again, the feature is replayed the pod that exists: its subnet is masqueraded at once.
            assertEquals(node, seenSource(outside, a.netns, outsideServer));
        }
    }

    @Test
    void purgeRemovesTheTableOfACrashedAgent() throws Exception {
        try (TestPod a = new TestPod(agent, "a", netconf())) {
            assertEquals(InetAddress.ofLiteral(v4 + "1"), seenSource(outside, a.netns, InetAddress.ofLiteral(v4 + "2")));
            agent.killAgent();
            assertTrue(AgentUnderTest.nftRuleset().contains("table inet " + agent.egressTable + " {"),
                    "a killed agent could not remove its table");
            String purged = agent.purge();
            assertTrue(purged.contains("removed nftables table inet " + agent.egressTable), purged);
            String after = AgentUnderTest.nftRuleset();
            assertFalse(after.contains(agent.egressTable), after);
            assertTrue(after.contains("table ip " + ownTable + " {"), "the test's own table is untouched:\n" + after);
        }
    }
}
