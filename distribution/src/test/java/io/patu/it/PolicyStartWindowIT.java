package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.KernelTest;

/**
 * Issue 10, item 5: the order in which an agent starts its bundles never opens a window where a pod that
 * should be isolated is not. The policy directory isolates every pod of namespace default for ingress before
 * the agent starts; pods are added from the moment its CNI socket answers, while the policy feature is still
 * starting. Each ADD is either refused with CNI error 11 (try again later) and leaves nothing behind, or
 * answers once the pod is isolated in the kernel: the generation in force holds the pod's address as
 * ingress-isolated and its host veth carries the policy programs, so its first packet meets the policy.
 * STATUS says not ready (code 50) for as long as an ADD would wait. A feature disabled on purpose holds
 * nothing back.
 */
@KernelTest
class PolicyStartWindowIT {
    private static final String DENY_ALL_INGRESS = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-all-ingress, namespace: default}
            spec:
              podSelector: {}
              policyTypes: [Ingress]
            """;

    private static final String STATUS_CONFIG = "{\"cniVersion\":\"1.1.0\",\"name\":\"patu-it\",\"type\":\"patu\"}";

    @Test
    void anAddDuringPolicyStartIsRefusedOrIsolatedFromItsFirstPacket() throws Exception {
        Path policyDir = Files.createTempDirectory("patu-it-startwindow-policy");
        Files.writeString(policyDir.resolve("deny.yaml"), DENY_ALL_INGRESS);
        List<AutoCloseable> pods = new ArrayList<>();
        // Not awaited ready (a features file is given): the test starts while the features do.
        try (AgentUnderTest agent = new AgentUnderTest(null, "{\"disabled\": []}", null,
                Map.of("io.patu.policy", Map.of("policyDir", policyDir.toString())))) {
            AgentUnderTest.CniCall status = agent.cni(Map.of("CNI_COMMAND", "STATUS"), STATUS_CONFIG);
            if (status.exitCode() != 0) {
                assertEquals(50, status.json().get("code").asInt(), "STATUS while features start: " + status.stdout());
            }
            int refused = 0;
            int added = 0;
            for (int i = 0; added < 3; i++) {
                String name = "patu-it-" + agent.id + "-w" + i;
                Path netns = NetNs.create(name);
                Map<String, String> env = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "it-" + agent.id + "-w" + i,
                        "CNI_NETNS", netns.toString(), "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
                AgentUnderTest.CniCall add = agent.cni(env, TestPod.CONFIG);
                if (add.exitCode() != 0) {
                    if (refused++ == 0) {
                        System.out.println("PolicyStartWindowIT: first refusal " + add.stdout());
                    }
                    assertEquals(11, add.json().get("code").asInt(), "an ADD is only ever refused as 'try again later': " + add.stdout());
                    assertFalse(agent.shell("patu:pods").stdout().contains("it-" + agent.id + "-w" + i), "a refused ADD changed nothing");
                    NetNs.delete(name);
                    continue;
                }
                added++;
                String cidr = add.json().get("ips").get(0).get("address").asText();
                InetAddress address = InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
                String hostVeth = add.json().get("interfaces").get(0).get("name").asText();
                // Right after the answer, before any packet: the pod is isolated in the kernel.
                int ifindex = hostIfIndex(hostVeth);
                assertIsolated(agent.bpffsDir.resolve("policy"), address, ifindex);
                pods.add(() -> {
                    try {
                        agent.cni(Map.of("CNI_COMMAND", "DEL", "CNI_CONTAINERID", env.get("CNI_CONTAINERID"),
                                "CNI_NETNS", netns.toString(), "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni"), TestPod.CONFIG);
                    } finally {
                        NetNs.delete(name);
                    }
                });
            }
            System.out.println("PolicyStartWindowIT: " + refused + " ADDs refused while policy started, then 3 isolated at their ADD");
            assertEquals(0, agent.cni(Map.of("CNI_COMMAND", "STATUS"), STATUS_CONFIG).exitCode(), "STATUS once started");

            // A feature disabled on purpose holds nothing back: ADD goes on at once, the pod unrestricted.
            assertTrue(agent.shell("patu:disable policy").stdout().contains("disabled"), "policy disabled");
            try (TestPod free = new TestPod(agent, "free")) {
                assertFalse(Files.exists(agent.bpffsDir.resolve("policy")), "nothing of policy left in the kernel");
            }
        } finally {
            for (AutoCloseable pod : pods.reversed()) {
                try {
                    pod.close();
                } catch (Exception ignored) {
                    // the agent is gone: its purge removed the veths
                }
            }
            AgentUnderTest.deleteTree(policyDir);
        }
    }

    private static int hostIfIndex(String veth) {
        try (RtNetlink host = RtNetlink.open()) {
            return host.link(veth).orElseThrow().index();
        }
    }

    /** The generation in force has the pod ingress-isolated, and both policy hooks are pinned on its veth. */
    private static void assertIsolated(Path pins, InetAddress address, int ifindex) throws Exception {
        long generation;
        try (BpfMap map = BpfMap.openPinned(pins.resolve("policy_generation"))) {
            generation = ByteBuffer.wrap(map.lookup(new byte[4]).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        assertTrue(generation > 0, "a policy generation is in force when the ADD answers");
        ByteBuffer key = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt((int) (generation & 1));
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            key.put(new byte[10]).put((byte) 0xff).put((byte) 0xff);
        }
        key.put(bytes);
        Optional<byte[]> value;
        try (BpfMap map = BpfMap.openPinned(pins.resolve("policy_pods"))) {
            value = map.lookup(key.array());
        }
        assertTrue(value.isPresent(), "the pod's address is in the policy in force when its ADD answers");
        ByteBuffer pod = ByteBuffer.wrap(value.get()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(ifindex, pod.getInt(), "keyed to its host veth");
        assertEquals(1, pod.getInt() & 1, "isolated for ingress");
        try (var links = Files.list(pins.resolve("links"))) {
            List<String> names = links.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith(ifindex + "_from_pod_")), "from-pod hook on its veth: " + names);
            assertTrue(names.stream().anyMatch(n -> n.startsWith(ifindex + "_to_pod_")), "to-pod hook on its veth: " + names);
        }
    }
}
