package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


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

    private static void assertRedirects(AgentUnderTest agent, TestPod a, TestPod b) throws Exception {
        long before = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED];
        long sent = PodTraffic.send(agent, a, b, 8 << 20, "64K");
        long redirected = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - before;
        // At least half: the rest may have gone through TCP while iperf3's reader was behind (backpressure).
        assertTrue(redirected >= sent / 2, "the first agent still redirects: " + redirected + " of " + sent);
    }
}
