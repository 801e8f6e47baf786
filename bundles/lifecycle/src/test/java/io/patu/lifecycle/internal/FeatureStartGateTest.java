package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.patu.api.ReadinessReport;

/** When an ADD may go on: the rules of {@link FeatureStartGate#starting(List, Map, boolean, Set)}. */
class FeatureStartGateTest {
    private static FeatureManager.Feature feature(String name, FeatureManager.State state) {
        return new FeatureManager.Feature(name, null, state);
    }

    private static Map<String, ReadinessReport.Entry> health(String name, String... problems) {
        return Map.of(name, new ReadinessReport.Entry(name, true, "active", false, List.of(problems)));
    }

    @Test
    void whileTheAgentLaunchesEveryFeatureNotDisabledMustStart() {
        Set<String> started = new HashSet<>();
        List<FeatureManager.Feature> features = List.of(feature("sockmap", FeatureManager.State.ACTIVE),
                feature("policy", FeatureManager.State.STOPPED), feature("xdp", FeatureManager.State.DISABLED),
                feature("ota", FeatureManager.State.NOT_INSTALLED));
        assertEquals(List.of("policy: not started yet"),
                FeatureStartGate.starting(features, health("sockmap"), true, started));
        assertEquals(Set.of("sockmap"), started, "a feature healthy once is started");
    }

    @Test
    void anActiveFeatureHoldsAddsBackUntilItsHealthChecksFirstReportNoProblem() {
        Set<String> started = new HashSet<>();
        List<FeatureManager.Feature> features = List.of(feature("policy", FeatureManager.State.ACTIVE));
        String noGeneration = "no policy generation is in the kernel yet";
        assertEquals(List.of("policy: " + noGeneration), FeatureStartGate.starting(features, health("policy", noGeneration), false, started));
        assertEquals(List.of("policy: starting"), FeatureStartGate.starting(features, Map.of(), false, started),
                "no health check registered yet: its component is starting");
        assertEquals(List.of(), FeatureStartGate.starting(features, health("policy"), false, started));
        assertEquals(List.of(), FeatureStartGate.starting(features, health("policy", "a hook of one pod is gone"), false, started),
                "once started, a later problem is readiness' business, not a reason to hold every ADD");
    }

    @Test
    void afterLaunchAStoppedOrDisabledFeatureHoldsNothingBack() {
        Set<String> started = new HashSet<>();
        assertTrue(FeatureStartGate.starting(List.of(feature("policy", FeatureManager.State.STOPPED),
                feature("xdp", FeatureManager.State.DISABLED)), Map.of(), false, started).isEmpty());
    }
}
