package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Route;
import io.patu.kernel.netlink.RtNetlink;

/**
 * The walking skeleton end to end, against the real kernel: the assembled agent, pods made by executing
 * the CNI plugin, TCP between them, and the counters and byte counts that show where the payload went.
 */
class CniPathIT extends WithAgent {
    private static final long MIB = 1 << 20;


    @Test
    void podsGetAddressesAndRoutesAndConnect() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            JsonNode ip = b.result.get("ips").get(0);
            assertTrue(ip.get("address").asText().startsWith(agent.subnetPrefix), ip.toString());
            assertEquals(agent.subnetPrefix + "1", ip.get("gateway").asText());
            assertEquals("1.0.0", b.result.get("cniVersion").asText());
            assertEquals(b.netns.toString(), b.result.get("interfaces").get(1).get("sandbox").asText());

            try (RtNetlink inPod = RtNetlink.openIn(b.netns)) {
                assertTrue(inPod.addresses("eth0").contains(new Address(b.address, 24)), "address on eth0");
                List<Route> routes = inPod.routes(RtNetlink.AF_INET);
                assertTrue(routes.stream().anyMatch(r -> r.destination() == null
                        && r.gateway() != null && r.gateway().getHostAddress().equals(agent.subnetPrefix + "1")),
                        "default route via the gateway: " + routes);
            }
            try (RtNetlink host = RtNetlink.open()) {
                int bridgeIndex = host.link(agent.bridge).orElseThrow().index();
                assertEquals(bridgeIndex, host.link(a.hostVeth).orElseThrow().masterIndex(), "host veth on the bridge");
            }
            assertTrue(PodTraffic.send(agent, a, b, MIB, "16K") >= MIB, "TCP from b to a");
            AgentUnderTest.assertExit(0, agent.cni(b.env("CHECK"), TestPod.CONFIG));
        }
    }

    @Test
    void tcpBetweenPodsSkipsTheVethsThroughSocketRedirection() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PodTraffic.assertRedirected(agent, a, a.address, b, 64 * MIB, "128K");
        }
    }

    @Test
    void delRemovesEverythingTheAddMadeAndIsIdempotent() throws Exception {
        TestPod pod = new TestPod(agent, "a");
        try {
            assertEquals(1, agent.localPodKeys().size(), "redirection enabled for the pod");
            AgentUnderTest.assertExit(0, pod.del());

            try (RtNetlink host = RtNetlink.open(); RtNetlink inPod = RtNetlink.openIn(pod.netns)) {
                assertTrue(host.link(pod.hostVeth).isEmpty(), "host veth removed");
                assertTrue(inPod.link("eth0").isEmpty(), "pod interface removed");
            }
            assertEquals(List.of(), agent.localPodKeys(), "redirection disabled for the pod");
            JsonNode leases = AgentUnderTest.JSON.readTree(agent.stateDir.resolve("ipam/leases.json").toFile());
            assertEquals(0, leases.get("leases").size(), "lease released: " + leases);
            JsonNode pods = AgentUnderTest.JSON.readTree(agent.stateDir.resolve("pods.json").toFile());
            assertEquals(0, pods.get("pods").size(), "pod unregistered: " + pods);

            AgentUnderTest.assertExit(0, pod.del());
        } finally {
            pod.close();
        }
    }

    @Test
    void stoppingTheDatapathKeepsTrafficOnTheBridgeAndStartingItReplaysThePods() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bundle = agent.bundleId("io.patu.datapath-sockmap");

            agent.gogo("stop " + bundle);
            AgentUnderTest.await("the sockmap pins to be removed", 20, () -> !Files.exists(agent.sockmapPins()));
            // The packet datapath (full profile) would hand the segments to the other pod without the bridge and
            // the receiver's veth: the bridge path needs it off too.
            AgentUnderTest.assertExit(0, agent.shell("patu:disable xdp"));
            AgentUnderTest.await("the xdp pins to be removed", 20, () -> !Files.exists(agent.bpffsDir.resolve("xdp")));
            long vethBefore = a.vethBytes() + b.vethBytes();
            long sent = PodTraffic.send(agent, a, b, 16 * MIB, "128K");
            long onVeths = a.vethBytes() + b.vethBytes() - vethBefore;
            // Both veths carry it (one each way through the bridge); offloads make the per-direction
            // accounting inexact, so the claim is only that the payload is there at all.
            assertTrue(onVeths >= sent, "with the datapath stopped the payload crossed the veths: "
                    + onVeths + " for " + sent);

            agent.gogo("start " + bundle);
            AgentUnderTest.await("the sockmap pins to come back", 20,
                    () -> Files.exists(agent.sockmapPins().resolve("sockmap_stats")));
            AgentUnderTest.await("the running pods to be replayed", 20, () -> agent.localPodKeys().size() == 2);
            System.out.println("CniPathIT, redirect re-enabled for existing pods: "
                    + PodTraffic.assertRedirected(agent, a, a.address, b, 16 * MIB, "128K"));
        }
    }

    @Test
    void badInputIsASpecErrorAndChangesNothing() throws Exception {
        try (RtNetlink host = RtNetlink.open()) {
            Map<String, String> env = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "bad-" + agent.id,
                    "CNI_NETNS", "/proc/self/ns/net", "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
            assertError(6, agent.cni(env, "{not json"));
            assertError(1, agent.cni(env, "{\"cniVersion\":\"0.0.1\",\"name\":\"n\",\"type\":\"patu\"}"));
            assertError(6, AgentUnderTest.exec(AgentUnderTest.DIST.resolve("cni/patu"), agent.socket, env,
                    new byte[2 * (int) MIB]));
            assertError(4, agent.cni(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "../../etc",
                    "CNI_NETNS", "/run/netns/x", "CNI_IFNAME", "eth0"), TestPod.CONFIG));
            // The bridge is made by the first ADD that passes validation: none did.
            assertTrue(host.link(agent.bridge).isEmpty(), "no bridge or veth created");
        }
        assertFalse(Files.exists(agent.stateDir.resolve("ipam/leases.json")), "no lease written");
    }

    @Test
    void withoutIpamAddFailsNamingItAndStatusSaysSo() throws Exception {
        String status = "{\"cniVersion\":\"1.1.0\",\"name\":\"patu-it\",\"type\":\"patu\"}";
        AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "STATUS"), status));

        AgentUnderTest.CniCall disabled = agent.shell("patu:disable ipam");
        AgentUnderTest.assertExit(0, disabled);
        AgentUnderTest.CniCall statusCall = agent.cni(Map.of("CNI_COMMAND", "STATUS"), status);
        assertError(50, statusCall);
        assertTrue(statusCall.json().get("msg").asText().contains("ipam"), statusCall.stdout());
        // TestPod fails with the plugin's output when ADD does not exit 0.
        AssertionError add = assertThrows(AssertionError.class, () -> new TestPod(agent, "x"));
        assertTrue(add.getMessage().contains("\"code\":50") && add.getMessage().contains("ipam"), add.getMessage());

        AgentUnderTest.assertExit(0, agent.shell("patu:enable ipam"));
        AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "STATUS"), status));
        try (TestPod pod = new TestPod(agent, "y")) {
            assertTrue(pod.address.getHostAddress().startsWith(agent.subnetPrefix));
        }
    }

    @Test
    void theAgentOutlivesTheEndOfItsConsoleInput() throws Exception {
        agent.closeConsole();
        AgentUnderTest.await("the shell to see the end of its input", 20,
                () -> agent.output().contains("gosh: stopping shell"));
        assertFalse(agent.output().contains("stopping shell and framework"), agent.output());
        AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"1.0.0\"}"));
        assertTrue(agent.isAlive());
    }

    @Test
    void unreachableAgentIsErrorElevenFromThePluginItself() throws Exception {
        AgentUnderTest.CniCall call = AgentUnderTest.exec(AgentUnderTest.DIST.resolve("cni/patu"),
                agent.work.resolve("nobody-listens.sock"), Map.of("CNI_COMMAND", "VERSION"), new byte[0]);
        assertError(11, call);
        assertTrue(call.json().get("details").asText().contains("nobody-listens.sock"), call.stdout());
        // STATUS has a definite answer without the agent: no ADD can succeed now.
        assertError(50, AgentUnderTest.exec(AgentUnderTest.DIST.resolve("cni/patu"), agent.work.resolve("nobody-listens.sock"),
                Map.of("CNI_COMMAND", "STATUS"), "{\"cniVersion\":\"1.1.0\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static void assertError(int code, AgentUnderTest.CniCall call) {
        assertTrue(call.exitCode() != 0, "errors exit non-zero: " + call.stdout());
        JsonNode json = call.json();
        assertEquals(code, json.get("code").asInt(), call.stdout());
        assertFalse(json.get("msg").asText().isBlank(), call.stdout());
    }
}
