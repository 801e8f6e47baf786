package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * Pod churn while the agent is killed with SIGKILL at random moments and restarted, as a service manager
 * would: {@value #PODS} pods, each ADDed and DELed through the CNI executable by a few runtime-like workers
 * that behave as runtimes do (a failed ADD is followed by DEL, then retried; a DEL is retried until it
 * succeeds). Then a cleanup phase DELs every attachment the test ever made and runs GC. Nothing may be
 * left: no lease, registry entry, veth or local_pods key; and no address may ever be held by two live pods.
 *
 * <p>The seed is printed; {@code -Dpatu.churn.seed=N} replays the kill timing and the order of work.
 */
class ChurnIT extends WithAgent {
    static final int PODS = Integer.getInteger("patu.churn.pods", 200);
    private static final int WORKERS = 4;
    private static final String GC_CONFIG = "{\"cniVersion\":\"1.1.0\",\"name\":\"patu-it\",\"type\":\"patu\","
            + "\"cni.dev/valid-attachments\":[]}";

    /** The agent JVM now serving: the fixture's first, then the ones this test restarts. */
    private volatile ProcessHandle current;
    private final List<Process> restarted = Collections.synchronizedList(new ArrayList<>());
    private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
    /** Calls the agent died in the middle of: connected, then no (complete) answer. */
    private final AtomicInteger interrupted = new AtomicInteger();

    @BeforeEach
    void start() {
        current = ProcessHandle.of(agent.pid()).orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        // Before WithAgent closes the fixture: the agents this test restarted are its to stop.
        try {
            for (Process process : restarted) {
                if (process.isAlive()) {
                    process.destroy();
                    if (!process.waitFor(30, TimeUnit.SECONDS)) {
                        process.destroyForcibly().waitFor();
                    }
                }
            }
        } finally {
            for (String name : List.copyOf(namespaces)) {
                NetNs.delete(name);
            }
        }
    }

    Map<String, String> env(String command, int pod) {
        return Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", "churn-" + agent.id + "-" + pod,
                "CNI_NETNS", "/run/netns/patu-it-" + agent.id + "-c" + pod, "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
    }

    @Test
    void killNineDuringChurnNeverDuplicatesAnAddressAndLeavesNothing() throws Exception {
        long seed = Long.getLong("patu.churn.seed", System.nanoTime());
        System.out.println("ChurnIT seed " + seed + " (-Dpatu.churn.seed=" + seed + " replays the kill timing), " + PODS + " pods");
        Random random = new Random(seed);
        long started = System.nanoTime();

        Map<InetAddress, Integer> live = new ConcurrentHashMap<>();
        List<String> duplicates = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger handedOut = new AtomicInteger();
        AtomicInteger failedAdds = new AtomicInteger();
        AtomicInteger failedDels = new AtomicInteger();
        AtomicInteger kills = new AtomicInteger();
        AtomicBoolean churning = new AtomicBoolean(true);
        AtomicInteger next = new AtomicInteger();

        ExecutorService pool = Executors.newFixedThreadPool(WORKERS + 1);
        try {
            long killerSeed = random.nextLong();
            Future<?> killer = pool.submit(() -> {
                Random timing = new Random(killerSeed);
                while (churning.get()) {
                    sleep(300 + timing.nextInt(1700));
                    if (!churning.get()) {
                        break;
                    }
                    killAndRestart();
                    kills.incrementAndGet();
                }
                return null;
            });
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                workers.add(pool.submit(() -> {
                    for (int pod; (pod = next.getAndIncrement()) < PODS; ) {
                        String netnsName = "patu-it-" + agent.id + "-c" + pod;
                        NetNs.create(netnsName);
                        namespaces.add(netnsName);
                        InetAddress address = addUntilItSucceeds(pod, failedAdds);
                        handedOut.incrementAndGet();
                        Integer holder = live.putIfAbsent(address, pod);
                        if (holder != null) {
                            duplicates.add(address + " to pod " + pod + " while pod " + holder + " holds it");
                        }
                        try (RtNetlink inPod = RtNetlink.openIn(Path.of("/run/netns/" + netnsName))) {
                            assertTrue(inPod.addresses("eth0").contains(new Address(address, 24)),
                                    "pod " + pod + " has " + address + " on eth0");
                        }
                        delUntilItSucceeds(pod, failedDels);
                        live.remove(address, pod);
                        NetNs.delete(netnsName);
                        namespaces.remove(netnsName);
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(10, TimeUnit.MINUTES);
            }
            churning.set(false);
            killer.get(2, TimeUnit.MINUTES);
        } finally {
            churning.set(false);
            pool.shutdownNow();
        }
        long churnMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        awaitAgent();

        // What DEL of each pod, retried until it succeeded, left behind: this must already be nothing.
        List<String> afterChurn = leftovers();

        // Cleanup phase, as a runtime recovering would: DEL of every attachment ever made, then GC with none valid.
        for (int pod = 0; pod < PODS; pod++) {
            AgentUnderTest.assertExit(0, agent.cni(env("DEL", pod), TestPod.CONFIG));
        }
        AgentUnderTest.CniCall gc = agent.cni(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/usr/lib/cni"), GC_CONFIG);
        List<String> afterCleanup = leftovers();

        System.out.println("ChurnIT: " + PODS + " pods in " + churnMillis + " ms; " + handedOut.get() + " addresses handed out ("
                + live.size() + " still live), " + kills.get() + " kill -9 + restarts, " + failedAdds.get() + " failed ADDs and "
                + failedDels.get() + " failed DELs retried (" + interrupted.get() + " cut off mid-call by a kill); duplicates " + duplicates
                + "; leftovers after churn " + afterChurn
                + ", after cleanup " + afterCleanup + "; GC exit " + gc.exitCode() + " " + gc.stdout().strip());
        assertEquals(List.of(), duplicates, "an address held by two live pods");
        assertTrue(kills.get() > 0, "the agent was killed at least once");
        assertEquals(List.of(), afterChurn, "left behind by the churn, before the cleanup phase");
        if (gc.exitCode() != 0 && gc.stdout().contains("unknown CNI_COMMAND")) {
            System.out.println("ChurnIT: this agent has no GC verb yet; the cleanup phase was DEL only");
        } else {
            AgentUnderTest.assertExit(0, gc);
        }
        assertEquals(List.of(), afterCleanup, "left behind after the cleanup phase");
    }

    private InetAddress addUntilItSucceeds(int pod, AtomicInteger failures) {
        for (int attempt = 0; ; attempt++) {
            AgentUnderTest.CniCall add = agent.cni(env("ADD", pod), TestPod.CONFIG);
            if (add.exitCode() == 0) {
                String cidr = add.json().get("ips").get(0).get("address").asText();
                return InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
            }
            failures.incrementAndGet();
            countInterrupted(add);
            assertTrue(attempt < 200, "ADD of pod " + pod + " keeps failing: " + add.stdout());
            // A runtime tears a failed ADD down before it tries again.
            delUntilItSucceeds(pod, failures);
            sleep(50);
        }
    }

    private void delUntilItSucceeds(int pod, AtomicInteger failures) {
        for (int attempt = 0; ; attempt++) {
            AgentUnderTest.CniCall del = agent.cni(env("DEL", pod), TestPod.CONFIG);
            if (del.exitCode() == 0) {
                return;
            }
            failures.incrementAndGet();
            countInterrupted(del);
            assertTrue(attempt < 400, "DEL of pod " + pod + " keeps failing: " + del.stdout());
            sleep(50);
        }
    }

    private void countInterrupted(AgentUnderTest.CniCall call) {
        if (call.stdout().contains("sent no valid answer")) {
            interrupted.incrementAndGet();
        }
    }

    /** SIGKILL to the agent's JVM ({@code bin/patu run} execs it), then the same command again. */
    private void killAndRestart() throws Exception {
        ProcessHandle victim = current;
        victim.destroyForcibly();
        victim.onExit().get(30, TimeUnit.SECONDS);
        ProcessBuilder builder = new ProcessBuilder(AgentUnderTest.DIST.resolve("bin/patu").toString(), "run",
                "--config", agent.work.resolve("patu.json").toString());
        File log = agent.work.resolve("agent-restart-" + restarted.size() + ".log").toFile();
        // stdin stays an open pipe: the Gogo console waits on it, as under a terminal.
        Process process = builder.redirectErrorStream(true).redirectOutput(log).start();
        restarted.add(process);
        current = process.toHandle();
        awaitAgent();
    }

    private void awaitAgent() {
        AgentUnderTest.await("the agent to answer on " + agent.socket, 60, () -> agent.cni(Map.of("CNI_COMMAND", "VERSION"),
                "{\"cniVersion\":\"1.0.0\"}").exitCode() == 0);
    }

    /** Leases, registry entries, local_pods keys, veths on the bridge or named after this test's attachments. */
    private List<String> leftovers() throws Exception {
        List<String> found = new ArrayList<>();
        Path leases = agent.stateDir.resolve("ipam/leases.json");
        if (Files.exists(leases)) {
            JsonNode held = AgentUnderTest.JSON.readTree(leases.toFile()).get("leases");
            if (held != null && !held.isEmpty()) {
                found.add("leases " + held);
            }
        }
        Path pods = agent.stateDir.resolve("pods.json");
        if (Files.exists(pods)) {
            JsonNode registered = AgentUnderTest.JSON.readTree(pods.toFile()).get("pods");
            if (registered != null && !registered.isEmpty()) {
                found.add("pods " + registered);
            }
        }
        List<String> keys = agent.localPodKeys();
        if (!keys.isEmpty()) {
            found.add("local_pods " + keys);
        }
        List<String> veths = new ArrayList<>();
        for (int pod = 0; pod < PODS; pod++) {
            veths.add(HostileInputIT.hostVeth("churn-" + agent.id + "-" + pod, "eth0"));
        }
        try (RtNetlink host = RtNetlink.open()) {
            Optional<Link> bridge = host.link(agent.bridge);
            for (Link link : host.links()) {
                if (veths.contains(link.name()) || bridge.isPresent() && link.masterIndex() == bridge.get().index()) {
                    found.add("link " + link.name());
                }
            }
        }
        return found;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
