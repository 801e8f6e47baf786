package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.patu.api.Pod;

/**
 * The upstream NetworkPolicy e2e cases (conformance/README.md) against the engine, through the real agent
 * component: its watched directory gets each step's files, and every ordered pod pair of every probe
 * block is decided twice, once by longest-prefix lookups in the compiled policy the kernel was given (what
 * the datapath enforces) and once by the explain function; both must equal the upstream matrix. Each step
 * must be applied within 1 s of its files being written.
 */
class ConformanceTest {
    @TempDir
    Path temp;

    /** Slowest time from a step's files being renamed in to the agent holding them, over every step. */
    private static long slowestMicros;
    private static int steps;

    @TestFactory
    Stream<DynamicTest> everyCase() throws Exception {
        ConformanceSuite suite = ConformanceSuite.fromTestResources();
        // Warm-up: the agent reads its directory once at start, so YAML's classes are loaded before any change.
        PolicyFiles.parse(suite.worldYaml().getBytes(java.nio.charset.StandardCharsets.UTF_8), "world.yaml", false);
        List<ConformanceSuite.Case> cases = suite.cases();
        assertTrue(cases.size() >= 30, cases.size() + " cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name() + ": " + c.upstreamTitle(), () -> run(suite, c)));
    }

    private void run(ConformanceSuite suite, ConformanceSuite.Case c) throws Exception {
        Path dir = Files.createDirectories(temp.resolve(c.name()));
        PolicyAgent agent = new PolicyAgent(Converters.standardConverter().convert(Map.of("policyDir", dir.toString()))
                .to(PolicyAgent.Config.class));
        RecordingKernel kernel = new RecordingKernel();
        agent.bindKernel(kernel);
        agent.start();
        try {
            List<Pod> pods = ConformanceSuite.PODS.stream().map(TestPods::world).toList();
            pods.forEach(agent::podAdded);
            for (ConformanceSuite.Step step : c.steps()) {
                Map<String, String> files = suite.directoryFiles(step, TestPods::address);
                long written = System.nanoTime();
                for (Map.Entry<String, String> file : files.entrySet()) {
                    // Written beside and renamed in, as a careful operator (or a config manager) would.
                    Path tmp = dir.resolve("." + file.getKey() + ".tmp");
                    Files.writeString(tmp, file.getValue());
                    Files.move(tmp, dir.resolve(file.getKey()), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                DirectoryContent expected = expectedContent(files);
                long deadline = written + TimeUnit.SECONDS.toNanos(1);
                while (!agent.directoryContent().policies().equals(expected.policies())
                        || !agent.directoryContent().pods().equals(expected.pods())
                        || !agent.directoryContent().namespaces().equals(expected.namespaces())) {
                    assertTrue(System.nanoTime() < deadline, c.name() + " step " + step.number()
                            + " not applied within 1 s; in force: " + agent.directoryContent());
                    Thread.sleep(5);
                }
                long micros = (System.nanoTime() - written) / 1000;
                slowestMicros = Math.max(slowestMicros, micros);
                steps++;
                assertEquals(List.of(), agent.directoryContent().problems(), "problems");
                CompiledPolicy compiled = kernel.last.get();
                PolicyInputs inputs = inputsOf(agent, pods);
                List<String> wrong = new ArrayList<>();
                for (ConformanceSuite.Probe probe : step.probes()) {
                    int protocol = PolicyPort.protocolNumber(probe.protocol());
                    for (Pod from : pods) {
                        for (Pod to : pods) {
                            String f = from.identity().namespace() + "/" + from.identity().name();
                            String t = to.identity().namespace() + "/" + to.identity().name();
                            boolean want = probe.allowed().get(f).get(t);
                            boolean lpm = TestPods.lpmAllows(compiled, from, to, protocol, probe.port());
                            Verdict verdict = PolicyEngine.explain(inputs, from.addresses().getFirst().address(),
                                    to.addresses().getFirst().address(), protocol, probe.port());
                            if (lpm != want || verdict.allowed() != want) {
                                wrong.add(probe.port() + "/" + probe.protocol() + " " + f + " -> " + t + ": expected "
                                        + (want ? "allow" : "deny") + ", compiled " + lpm + ", explain " + verdict.describe());
                            }
                        }
                    }
                }
                assertEquals(List.of(), wrong, c.name() + " step " + step.number());
            }
        } finally {
            agent.stop();
        }
    }

    @org.junit.jupiter.api.AfterAll
    static void report() {
        System.out.println("ConformanceTest: " + steps + " steps applied, slowest " + slowestMicros / 1000 + " ms after the files were renamed in");
    }

    private static PolicyInputs inputsOf(PolicyAgent agent, List<Pod> pods) {
        DirectoryContent content = agent.directoryContent();
        return PolicyInputs.of(content.policies(), content.namespaces(), content.pods(), pods);
    }

    /** What a fresh read of the same files gives, to know when the watcher has caught up. */
    private DirectoryContent expectedContent(Map<String, String> files) throws Exception {
        Path copy = Files.createTempDirectory(temp, "expected");
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(copy.resolve(file.getKey()), file.getValue());
        }
        PolicyDirectory directory = new PolicyDirectory(copy, c -> { });
        directory.rescan();
        return directory.current();
    }
}
