package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.patu.api.HealthCheck;
import io.patu.api.ReadinessReport;

class AgentReadinessTest {
    private static final HealthCheck HEALTHY = List::of;
    private static final AgentReadiness.Check SOCKET = new AgentReadiness.Check("lifecycle", null, HEALTHY);

    private static FeatureManager.Feature feature(String name, FeatureManager.State state) {
        return new FeatureManager.Feature(name, null, state);
    }

    @Test
    void readyWhenTheSocketIsServedAndEveryEnabledFeatureIsActiveAndHealthy() {
        ReadinessReport report = AgentReadiness.report(
                List.of(SOCKET, new AgentReadiness.Check("sockmap", "sockmap", HEALTHY)),
                List.of(feature("sockmap", FeatureManager.State.ACTIVE), feature("metrics", FeatureManager.State.DISABLED)),
                Set.of("sockmap"));
        assertTrue(report.ready(), report.toString());
        assertEquals(List.of("lifecycle", "metrics", "sockmap"), report.entries().stream().map(ReadinessReport.Entry::name).toList());
        assertTrue(AgentReadiness.render(report).startsWith("ready: yes\n"));
    }

    @Test
    void aRequiredFeatureThatIsDisabledMakesItNotReady() {
        ReadinessReport report = AgentReadiness.report(List.of(SOCKET),
                List.of(feature("sockmap", FeatureManager.State.DISABLED)), Set.of("sockmap"));
        assertFalse(report.ready());
        assertEquals(List.of("required by the profile, but disabled: patu:enable sockmap"), report.entries().get(1).problems());
        String text = AgentReadiness.render(report);
        assertTrue(text.startsWith("ready: no\n"), text);
        assertTrue(text.contains("sockmap    feature  yes       disabled  required by the profile"), text);
    }

    @Test
    void aSickOrSilentActiveFeatureAStoppedOneAndAMissingRequiredOneAreProblems() {
        HealthCheck sick = () -> List.of("sk_msg is not attached to sock_hash");
        ReadinessReport report = AgentReadiness.report(
                List.of(SOCKET, new AgentReadiness.Check("sockmap", "sockmap", sick)),
                List.of(feature("sockmap", FeatureManager.State.ACTIVE), feature("ipam", FeatureManager.State.ACTIVE),
                        feature("xdp", FeatureManager.State.STOPPED)),
                Set.of("policy"));
        assertFalse(report.ready());
        assertEquals(List.of("lifecycle", "ipam", "policy", "sockmap", "xdp"),
                report.entries().stream().map(ReadinessReport.Entry::name).toList());
        assertTrue(report.entries().get(1).problems().getFirst().contains("registers no health check"));
        assertTrue(report.entries().get(2).problems().getFirst().contains("no installed bundle provides it"));
        assertEquals(List.of("sk_msg is not attached to sock_hash"), report.entries().get(3).problems());
        assertTrue(report.entries().get(4).problems().getFirst().startsWith("enabled, but its bundle is not active"));
    }

    @Test
    void withoutTheSocketCheckOrWhenItFailsItIsNotReady() {
        ReadinessReport noSocket = AgentReadiness.report(List.of(), List.of(), Set.of());
        assertFalse(noSocket.ready());
        assertEquals("stopped", noSocket.entries().getFirst().state());
        ReadinessReport gone = AgentReadiness.report(List.of(new AgentReadiness.Check("lifecycle", null,
                () -> List.of("the CNI socket /x is gone"))), List.of(), Set.of());
        assertEquals(List.of("the CNI socket /x is gone"), gone.entries().getFirst().problems());
        ReadinessReport throwing = AgentReadiness.report(List.of(SOCKET, new AgentReadiness.Check("other", null, () -> {
            throw new IllegalStateException("boom");
        })), List.of(), Set.of());
        assertFalse(throwing.ready());
    }

    @Test
    void requiredFeaturesComeFromACommaSeparatedProperty() {
        assertEquals(Set.of("ipam", "sockmap"), AgentReadiness.requiredFeatures(" ipam, sockmap ,"));
        assertEquals(Set.of(), AgentReadiness.requiredFeatures(null));
    }
}
