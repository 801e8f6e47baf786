package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * {@value #PODS} ADDs at once through the CNI executable, as a runtime starting many pods: each gets its own
 * address, really configured in its namespace; then {@value #PODS} DELs at once leave nothing behind.
 */
class ParallelAddIT extends WithAgent {
    static final int PODS = 100;

    private final List<String> namespaces = new ArrayList<>();

    @AfterEach
    void deleteNamespaces() {
        for (String name : namespaces) {
            NetNs.delete(name);
        }
    }

    Map<String, String> env(String command, int i) {
        return Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", "par-" + agent.id + "-" + i,
                "CNI_NETNS", "/run/netns/" + namespaces.get(i), "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
    }

    @Test
    void parallelAddsGetDistinctAddressesAndParallelDelsLeaveNothing() throws Exception {
        for (int i = 0; i < PODS; i++) {
            String name = "patu-it-" + agent.id + "-p" + i;
            NetNs.create(name);
            namespaces.add(name);
        }
        long started = System.nanoTime();
        List<AgentUnderTest.CniCall> adds = all("ADD");
        long addMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        Set<InetAddress> addresses = new HashSet<>();
        for (int i = 0; i < PODS; i++) {
            AgentUnderTest.CniCall add = adds.get(i);
            AgentUnderTest.assertExit(0, add);
            JsonNode ip = add.json().get("ips").get(0);
            String cidr = ip.get("address").asText();
            InetAddress address = InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
            assertTrue(addresses.add(address), "address " + address + " handed out twice");
            try (RtNetlink inPod = RtNetlink.openIn(Path.of("/run/netns/" + namespaces.get(i)))) {
                assertTrue(inPod.addresses("eth0").contains(new Address(address, 24)), "pod " + i + " has " + cidr + " on eth0");
                assertTrue(inPod.link("eth0").orElseThrow().up(), "pod " + i + " eth0 up");
            }
        }
        assertEquals(PODS, addresses.size());
        assertEquals(PODS, agent.localPodKeys().size(), "redirection enabled for every pod");
        assertEquals(PODS, leases().size(), "one lease per pod");
        try (RtNetlink host = RtNetlink.open()) {
            int bridge = host.link(agent.bridge).orElseThrow().index();
            assertEquals(PODS, host.links().stream().filter(l -> l.masterIndex() == bridge).count(), "one veth per pod on the bridge");
        }

        started = System.nanoTime();
        List<AgentUnderTest.CniCall> dels = all("DEL");
        long delMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        for (AgentUnderTest.CniCall del : dels) {
            AgentUnderTest.assertExit(0, del);
        }
        System.out.println("ParallelAddIT: " + PODS + " parallel ADDs in " + addMillis + " ms, " + addresses.size()
                + " distinct addresses; " + PODS + " parallel DELs in " + delMillis + " ms");

        assertEquals(0, leases().size(), "no lease left");
        assertEquals(0, AgentUnderTest.JSON.readTree(agent.stateDir.resolve("pods.json").toFile()).get("pods").size(), "no pod left");
        assertEquals(List.of(), agent.localPodKeys(), "no local_pods entry left");
        try (RtNetlink host = RtNetlink.open()) {
            int bridge = host.link(agent.bridge).orElseThrow().index();
            assertEquals(List.of(), host.links().stream().filter(l -> l.masterIndex() == bridge).map(Link::name).toList(),
                    "no veth left on the bridge");
        }
        for (String name : namespaces) {
            try (RtNetlink inPod = RtNetlink.openIn(Path.of("/run/netns/" + name))) {
                assertEquals(List.of("lo"), inPod.links().stream().map(Link::name).toList(), "only lo left in " + name);
            }
        }
    }

    private JsonNode leases() throws Exception {
        Path file = agent.stateDir.resolve("ipam/leases.json");
        return Files.exists(file) ? AgentUnderTest.JSON.readTree(file.toFile()).get("leases") : AgentUnderTest.JSON.createArrayNode();
    }

    /** One plugin call per pod, all released at the same moment. */
    private List<AgentUnderTest.CniCall> all(String command) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PODS);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<AgentUnderTest.CniCall>> calls = new ArrayList<>();
            for (int i = 0; i < PODS; i++) {
                int pod = i;
                calls.add(pool.submit(() -> {
                    go.await();
                    return agent.cni(env(command, pod), TestPod.CONFIG);
                }));
            }
            go.countDown();
            List<AgentUnderTest.CniCall> results = new ArrayList<>();
            for (Future<AgentUnderTest.CniCall> call : calls) {
                results.add(call.get(3, TimeUnit.MINUTES));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
