package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.testing.KernelTest;
import io.patu.policy.internal.ConformanceSuite;
import io.patu.policy.internal.ConformanceSuite.Case;
import io.patu.policy.internal.ConformanceSuite.Probe;
import io.patu.policy.internal.ConformanceSuite.Step;

/**
 * The NetworkPolicy conformance suite (bundles/policy/src/test/resources/conformance: cases from the upstream
 * Kubernetes e2e tests) on real pods through the assembled agent, on every path a byte can take between two
 * pods: with socket redirection on (as the full profile ships), with it disabled ({@code patu:disable sockmap}:
 * packets delivered between pods by the packet datapath's tcx programs), and on the plain bridge
 * ({@code patu:disable xdp} too). The agent runs the full profile (the policy feature and the tcx
 * packet datapath) with a policy directory of its own; nine pods x/a .. z/c are added through the CNI plugin
 * with K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS, and each runs {@link PolicyProbePod}: TCP and UDP servers on
 * 80 and 81 and a prober, in the agent's test cgroup.
 *
 * <p>For each step of each case the directory gets one file, written beside it and renamed in: the world's
 * Namespace and Pod objects, the step's objects, and a marker policy (in a namespace without pods, so it
 * selects nothing) whose name is unique to the step. The step is in force once {@code patu:policies} lists the
 * marker: the agent lists a directory's content only after the datapath has applied it (maps written and
 * switched, sockets revalidated). Then every ordered pair of distinct pods is probed on each port and protocol
 * the case lists, all in parallel, and compared with the expected matrix; pairs that differ are probed again
 * with longer timeouts (a loaded machine may be slow to answer; upstream retries too) before the case fails
 * with both matrices. Loopback (the diagonal) is not probed: a pod's traffic to itself never reaches its veth.
 *
 * <p>With redirection on, the sockmap counters must show a redirected message for every TCP probe that got its
 * echo (the server's reply is sent once both sockets are in the sockhash); with it off, the counters of the
 * map the sk_msg program would count in, held open across the disable, must not move, and the packet datapath's
 * must show packets it delivered; on the bridge, those must not move either.
 */
@KernelTest
class PolicyConformanceIT {
    private static final Path DATA = Path.of(System.getProperty("patu.repo", ".."), "bundles/policy/src/test/resources/conformance");
    /** First attempt's timeout, then the retries' for pairs that differed. A denied probe costs the first. */
    private static final int[] TIMEOUTS_MS = {600, 2000, 4000};
    private static final String MARKER_NAMESPACE = "conformance-marker";
    /** A regular expression on case names, to run a few while working on one (-Dpatu.conformance.cases=2[0-4].*). */
    private static final String ONLY = System.getProperty("patu.conformance.cases", ".*");

    private AgentUnderTest agent;
    private final Map<String, TestPod> pods = new LinkedHashMap<>();
    private final Map<String, PodProber> probers = new LinkedHashMap<>();
    private int marker;
    private long probesRun;
    private long pairsChecked;
    private long retried;
    private long allowedTcpProbes;
    private long slowestApplyMillis;

    /** One probe of one step: source and destination (indexes into PODS) and which of the step's probe blocks. */
    private record Pair(int source, int destination, int block) {
    }

    @Test
    void everyCaseOnRealPodsWithRedirectionOnOffAndOnThePlainBridge() throws Exception {
        ConformanceSuite suite = new ConformanceSuite(DATA);
        List<Case> cases = suite.cases().stream().filter(c -> c.name().matches(ONLY)).toList();
        assertTrue(cases.size() >= (ONLY.equals(".*") ? 30 : 1), "conformance cases found in " + DATA + ": " + cases.size());
        long started = System.nanoTime();
        agent = new AgentUnderTest("full", null);
        try {
            Path dir = Files.createDirectories(agent.work.resolve("policy"));
            apply(dir, suite.worldYaml(), "world");
            for (String pod : ConformanceSuite.PODS) {
                String namespace = pod.substring(0, 1);
                String name = pod.substring(2);
                pods.put(pod, new TestPod(agent, namespace + "-" + name, TestPod.CONFIG,
                        "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + namespace + ";K8S_POD_NAME=" + name + ";K8S_POD_UID=uid-" + namespace + name));
            }
            for (Map.Entry<String, TestPod> pod : pods.entrySet()) {
                probers.put(pod.getKey(), PodProber.start(agent, pod.getValue().name, 80, 81));
            }
            for (PodProber prober : probers.values()) {
                prober.awaitReady();
            }
            long ready = System.nanoTime();

            List<String> failures = new ArrayList<>();
            long[] before = agent.sockmapCounters();
            runAll(suite, cases, dir, "redirection on", failures);
            long[] after = agent.sockmapCounters();
            long redirectedMsgs = after[AgentUnderTest.MSGS_REDIRECTED] - before[AgentUnderTest.MSGS_REDIRECTED];
            long socketsAdded = after[AgentUnderTest.SOCKETS_ADDED] - before[AgentUnderTest.SOCKETS_ADDED];
            long allowedTcpOn = allowedTcpProbes;
            long onDone = System.nanoTime();

            long[] frozen;
            long[] afterOff;
            long deliveredByTcx;
            long deliveredOnBridge;
            long offDone;
            try (BpfMap sockmapStats = BpfMap.openPinned(agent.sockmapPins().resolve("sockmap_stats"));
                 BpfMap xdpCounters = BpfMap.openPinned(xdpPins().resolve("pod_counters"))) {
                AgentUnderTest.assertExit(0, agent.shell("patu:disable sockmap"));
                AgentUnderTest.await("the sockmap pins to be removed", 30, () -> !Files.exists(agent.sockmapPins()));
                frozen = sockmapCounters(sockmapStats);
                long delivered = delivered(xdpCounters);
                runAll(suite, cases, dir, "redirection off", failures);
                deliveredByTcx = delivered(xdpCounters) - delivered;
                offDone = System.nanoTime();

                AgentUnderTest.assertExit(0, agent.shell("patu:disable xdp"));
                AgentUnderTest.await("the packet datapath's pins to be removed", 30, () -> !Files.exists(xdpPins()));
                delivered = delivered(xdpCounters);
                runAll(suite, cases, dir, "plain bridge", failures);
                deliveredOnBridge = delivered(xdpCounters) - delivered;
                afterOff = sockmapCounters(sockmapStats);
            }
            long end = System.nanoTime();

            int steps = cases.stream().mapToInt(c -> c.steps().size()).sum();
            System.out.printf("PolicyConformanceIT: %d cases (%d steps) x 3 paths = %d case runs; %d ordered pairs checked, "
                            + "%d probes run (%d retried); slowest step in force %d ms after its rename; "
                            + "redirection on: %d allowed TCP probes, %d messages redirected, %d sockets added; "
                            + "redirection off: sockmap counters unchanged, %d packets delivered by tcx; plain bridge: %d; "
                            + "set-up %d s, on %d s, off %d s, bridge %d s, total %d s%n",
                    cases.size(), steps, cases.size() * 3, pairsChecked, probesRun, retried, slowestApplyMillis,
                    allowedTcpOn, redirectedMsgs, socketsAdded, deliveredByTcx, deliveredOnBridge, seconds(ready - started),
                    seconds(onDone - ready), seconds(offDone - onDone), seconds(end - offDone), seconds(end - started));
            if (!failures.isEmpty()) {
                fail(failures.size() + " step(s) differ from the expected reachability:\n\n" + String.join("\n\n", failures));
            }
            assertTrue(allowedTcpOn > 0, "some TCP probes were allowed with redirection on");
            assertArrayEquals(frozen, afterOff, "with socket redirection disabled no socket entered a sockhash and no message was redirected");
            assertTrue(deliveredByTcx > 0, "with redirection off, the packet datapath delivered between pods (tcx)");
            assertEquals(0, deliveredOnBridge, "with both datapaths disabled, every packet took the bridge");
            assertTrue(redirectedMsgs >= allowedTcpOn, "every allowed TCP probe's echo was redirected: " + redirectedMsgs
                    + " messages for " + allowedTcpOn + " probes");
        } finally {
            cleanUp();
        }
    }

    private Path xdpPins() {
        return agent.bpffsDir.resolve("xdp");
    }

    private static long[] sockmapCounters(BpfMap stats) {
        return AgentUnderTest.sumPerCpu(stats.lookup(new byte[4]).orElseThrow(), AgentUnderTest.SOCKMAP_COUNTERS);
    }

    /** Packets the packet datapath delivered straight into pods (pod_counters' first field), all pods, all CPUs. */
    private static long delivered(BpfMap podCounters) {
        long sum = 0;
        for (byte[] key : podCounters.keys()) {
            sum += podCounters.lookup(key).map(v -> AgentUnderTest.sumPerCpu(v, 3)[0]).orElse(0L);
        }
        return sum;
    }

    private static long seconds(long nanos) {
        return TimeUnit.NANOSECONDS.toSeconds(nanos);
    }

    private void runAll(ConformanceSuite suite, List<Case> cases, Path dir, String path, List<String> failures) throws Exception {
        for (Case c : cases) {
            for (Step step : c.steps()) {
                Map<String, String> files = suite.directoryFiles(step, pod -> pods.get(pod).address);
                String content = files.get("world.yaml") + "\n" + files.get("case.yaml") + "\n";
                apply(dir, content, path + " " + c.name() + " step " + step.number());
                probeStep(c, step, path).ifPresent(failures::add);
            }
        }
    }

    /** Writes the directory's one file beside it, renames it in, and waits until the agent lists its marker. */
    private void apply(Path dir, String content, String what) throws IOException {
        String name = "marker-" + ++marker;
        String file = content + "\n---\n# marks " + what + " in patu:policies\napiVersion: networking.k8s.io/v1\n"
                + "kind: NetworkPolicy\nmetadata:\n  name: " + name + "\n  namespace: " + MARKER_NAMESPACE
                + "\nspec:\n  podSelector: {}\n";
        Path beside = dir.resolve("conformance.yaml.new");
        Files.writeString(beside, file);
        long renamed = System.nanoTime();
        Files.move(beside, dir.resolve("conformance.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        AgentUnderTest.await("the agent to apply " + what + " (" + name + " in patu:policies)", 20, () -> {
            AgentUnderTest.CniCall policies = agent.shell("patu:policies");
            return policies.exitCode() == 0 && policies.stdout().contains("  " + name + "  ");
        });
        slowestApplyMillis = Math.max(slowestApplyMillis, (System.nanoTime() - renamed) / 1_000_000);
        String policies = agent.shell("patu:policies").stdout();
        if (!policies.contains("no errors")) {
            fail("the agent reports errors for " + what + ":\n" + policies);
        }
    }

    /** Probes the step's every pair and block; on a final difference, the case's matrices side by side. */
    private Optional<String> probeStep(Case c, Step step, String path) throws Exception {
        List<String> names = ConformanceSuite.PODS;
        List<Pair> pending = new ArrayList<>();
        for (int block = 0; block < step.probes().size(); block++) {
            for (int s = 0; s < names.size(); s++) {
                for (int d = 0; d < names.size(); d++) {
                    if (s != d) {
                        pending.add(new Pair(s, d, block));
                    }
                }
            }
        }
        pairsChecked += pending.size();
        Map<Pair, Boolean> observed = new LinkedHashMap<>();
        for (int attempt = 0; attempt < TIMEOUTS_MS.length && !pending.isEmpty(); attempt++) {
            if (attempt > 0) {
                retried += pending.size();
            }
            Map<Pair, Boolean> results = probe(step, pending, TIMEOUTS_MS[attempt]);
            observed.putAll(results);
            List<Pair> differing = new ArrayList<>();
            for (Map.Entry<Pair, Boolean> result : results.entrySet()) {
                if (result.getValue() != expected(step, result.getKey())) {
                    differing.add(result.getKey());
                }
            }
            pending = differing;
        }
        if (pending.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(describe(c, step, path, observed, pending));
    }

    private static boolean expected(Step step, Pair pair) {
        List<String> names = ConformanceSuite.PODS;
        return step.probes().get(pair.block()).allowed().get(names.get(pair.source())).get(names.get(pair.destination()));
    }

    /** One request per source pod, all sent before any answer is read: the pods probe in parallel. */
    private Map<Pair, Boolean> probe(Step step, List<Pair> pairs, int timeoutMillis) throws Exception {
        List<String> names = ConformanceSuite.PODS;
        Map<Integer, List<Pair>> bySource = new LinkedHashMap<>();
        for (Pair pair : pairs) {
            bySource.computeIfAbsent(pair.source(), s -> new ArrayList<>()).add(pair);
        }
        for (Map.Entry<Integer, List<Pair>> source : bySource.entrySet()) {
            List<String> targets = new ArrayList<>();
            for (Pair pair : source.getValue()) {
                Probe block = step.probes().get(pair.block());
                targets.add(PodProber.target(pods.get(names.get(pair.destination())).address, block.port(), block.protocol()));
            }
            probers.get(names.get(source.getKey())).request(timeoutMillis, targets);
        }
        Map<Pair, Boolean> results = new LinkedHashMap<>();
        for (Map.Entry<Integer, List<Pair>> source : bySource.entrySet()) {
            List<Pair> asked = source.getValue();
            boolean[] reached = probers.get(names.get(source.getKey())).answer(asked.size(), timeoutMillis);
            for (int i = 0; i < asked.size(); i++) {
                Pair pair = asked.get(i);
                results.put(pair, reached[i]);
                if (reached[i] && step.probes().get(pair.block()).protocol().equals("TCP")) {
                    allowedTcpProbes++;
                }
            }
            probesRun += asked.size();
        }
        return results;
    }

    /** The expected and the observed matrix of each block that differs, the pairs that differ, and their verdicts. */
    private String describe(Case c, Step step, String path, Map<Pair, Boolean> observed, List<Pair> differing) {
        List<String> names = ConformanceSuite.PODS;
        StringBuilder out = new StringBuilder(c.name() + " step " + step.number() + " (path: " + path + "), upstream \""
                + c.upstreamTitle() + "\"");
        for (int block = 0; block < step.probes().size(); block++) {
            int b = block;
            if (differing.stream().noneMatch(p -> p.block() == b)) {
                continue;
            }
            Probe probe = step.probes().get(block);
            out.append("\n").append(probe.port()).append('/').append(probe.protocol())
                    .append(": expected | observed (rows sources, columns destinations; . allowed, X denied, ! differs)\n");
            StringBuilder header = new StringBuilder("    ");
            names.forEach(n -> header.append(' ').append(n.replace("/", "")));
            out.append(header).append("   |").append(header.substring(3)).append('\n');
            for (int s = 0; s < names.size(); s++) {
                StringBuilder expectedRow = new StringBuilder(String.format("%-4s", names.get(s).replace("/", "")));
                StringBuilder observedRow = new StringBuilder();
                for (int d = 0; d < names.size(); d++) {
                    Pair pair = new Pair(s, d, block);
                    boolean want = probe.allowed().get(names.get(s)).get(names.get(d));
                    expectedRow.append("  ").append(want ? '.' : 'X');
                    String seen = s == d ? "-" : observed.get(pair) ? "." : "X";
                    observedRow.append("  ").append(differing.contains(pair) ? "!" : seen);
                }
                out.append(expectedRow).append("   |").append(observedRow).append('\n');
            }
        }
        for (Pair pair : differing.subList(0, Math.min(4, differing.size()))) {
            Probe probe = step.probes().get(pair.block());
            String command = "patu:verdict " + names.get(pair.source()) + " " + names.get(pair.destination()) + " "
                    + probe.port() + "/" + probe.protocol();
            out.append(names.get(pair.source())).append(" -> ").append(names.get(pair.destination())).append(' ')
                    .append(probe.port()).append('/').append(probe.protocol()).append(": expected ")
                    .append(expected(step, pair) ? "allowed" : "denied").append(", observed ")
                    .append(observed.get(pair) ? "allowed" : "denied").append("; ").append(command).append(":\n  ")
                    .append(agent.shell(command).stdout().strip().replace("\n", "\n  ")).append('\n');
        }
        return out.toString().stripTrailing();
    }

    private void cleanUp() throws Exception {
        Throwable first = null;
        for (PodProber prober : probers.values()) {
            try {
                prober.close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        for (TestPod pod : pods.values()) {
            try {
                pod.close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (agent != null) {
            agent.close();
            assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
        }
        if (first != null) {
            throw new AssertionError("clean-up failed", first);
        }
    }
}
