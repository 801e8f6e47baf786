package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;

/**
 * A second agent misconfigured with the first one's bpffsDir must not adopt its pinned objects: its
 * datapath refuses to start and says why, and the first agent keeps redirecting, also after the second
 * one's datapath bundle was stopped and started and the second agent went away.
 */
@KernelTest
class PinOwnershipIT {
    @Test
    void aSecondAgentCannotTakeOverTheFirstOnesPins() throws Exception {
        try (AgentUnderTest first = new AgentUnderTest();
             TestPod a = new TestPod(first, "a"); TestPod b = new TestPod(first, "b")) {
            try (AgentUnderTest second = new AgentUnderTest(first.bpffsDir)) {
                AgentUnderTest.await("the second agent to refuse the pin directory", 20,
                        () -> second.output().contains("belongs to another running Patu agent"));
                long bundle = second.bundleId("io.patu.datapath-sockmap");
                second.gogo("stop " + bundle);
                second.gogo("start " + bundle);
                AgentUnderTest.await("a second refusal", 20,
                        () -> second.output().split("belongs to another running Patu agent", -1).length > 2);
                assertRedirects(first, a, b);
            }
            assertRedirects(first, a, b);
            assertEquals(2, first.localPodKeys().size(), "the first agent's pods are still enabled");
        }
    }

    /**
     * Pins of another Patu version (here a sockmap_stats map of the first version's 48-byte value) would make
     * libbpf refuse to load; with no agent owning them, the datapath replaces them and redirects.
     */
    @Test
    void pinsOfAnotherVersionAreReplaced() throws Exception {
        Path bpffs = Path.of("/sys/fs/bpf/patu-it-oldpins-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            Files.createDirectories(bpffs.resolve("sockmap"));
            Process create = new ProcessBuilder("bpftool", "map", "create", bpffs.resolve("sockmap/sockmap_stats").toString(),
                    "type", "percpu_array", "key", "4", "value", "48", "entries", "1", "name", "sockmap_stats")
                    .redirectErrorStream(true).start();
            String out = new String(create.getInputStream().readAllBytes());
            assertEquals(0, create.waitFor(), "bpftool map create: " + out);
            try (AgentUnderTest agent = new AgentUnderTest(bpffs);
                 TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
                AgentUnderTest.await("the datapath to replace the old pins", 20,
                        () -> Files.exists(agent.sockmapPins().resolve("conn_state")));
                assertTrue(agent.output().contains("do not match this datapath"), "the agent says what it replaced");
                agent.awaitReady();
                System.out.println("PinOwnershipIT, over old pins: " + PodTraffic.assertRedirected(agent, a, a.address, b, 16 << 20, "128K"));
            }
        } finally {
            // Unlinking the pins releases the objects; the agent keeps them on shutdown.
            new ProcessBuilder("rm", "-rf", bpffs.toString()).start().waitFor();
        }
    }

    private static void assertRedirects(AgentUnderTest agent, TestPod a, TestPod b) throws Exception {
        long before = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED];
        long sent = PodTraffic.send(agent, a, b, 8 << 20, "64K");
        long redirected = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - before;
        // At least half: the rest may have gone through TCP while iperf3's reader was behind (backpressure).
        assertTrue(redirected >= sent / 2, "the first agent still redirects: " + redirected + " of " + sent);
    }
}
