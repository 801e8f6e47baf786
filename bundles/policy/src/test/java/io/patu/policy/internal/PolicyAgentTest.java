package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.patu.api.NamespaceMetadata;
import io.patu.api.Pod;
import io.patu.api.PodIdentity;
import io.patu.api.PodMetadata;
import io.patu.api.PodMetadataSource;

/** The component: pods in and out, the kernel bound late, other metadata sources, the commands. */
class PolicyAgentTest {
    @TempDir
    Path dir;

    private PolicyAgent agent() {
        return new PolicyAgent(Converters.standardConverter().convert(Map.of("policyDir", dir.toString())).to(PolicyAgent.Config.class));
    }

    private static final String DENY_X = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: x}
            spec: {podSelector: {matchLabels: {pod: a}}}
            """;

    @Test
    void aKernelBoundLateGetsThePolicyInForceAtOnce() throws Exception {
        Files.writeString(dir.resolve("p.yaml"), DENY_X + "---\n" + ConformanceSuite.fromTestResources().worldYaml());
        PolicyAgent agent = agent();
        agent.start();
        try {
            Pod xa = TestPods.world("x/a");
            agent.podAdded(xa);
            agent.podAdded(TestPods.world("y/a"));
            RecordingKernel kernel = new RecordingKernel();
            agent.bindKernel(kernel);
            assertSame(agent.compiled(), kernel.last.get());
            assertTrue(kernel.last.get().pods().get(xa.hostIfIndex()).ingressIsolated());
            agent.podRemoved(xa);
            assertEquals(1, kernel.last.get().pods().size());
            assertTrue(agent.policies().contains("deny"), agent.policies());
            agent.unbindKernel(kernel);
            agent.podAdded(xa);
            assertEquals(1, kernel.last.get().pods().size(), "an unbound kernel hears nothing");
        } finally {
            agent.stop();
        }
    }

    @Test
    void aKernelThatFailsFailsThePodsAddAndForgetsThePod() throws Exception {
        PolicyAgent agent = agent();
        agent.start();
        try {
            agent.bindKernel(next -> {
                throw new IllegalStateException("map full");
            });
            Pod pod = TestPods.world("x/a");
            assertThrows(IllegalStateException.class, () -> agent.podAdded(pod));
            assertEquals(0, agent.compiled().pods().size());
        } finally {
            agent.stop();
        }
    }

    @Test
    void anotherMetadataSourceLabelsPods() throws Exception {
        Files.writeString(dir.resolve("p.yaml"), DENY_X);
        PolicyAgent agent = agent();
        agent.start();
        try {
            Pod xa = TestPods.world("x/a");
            agent.podAdded(xa);
            assertTrue(!agent.compiled().pods().get(xa.hostIfIndex()).ingressIsolated(), "no labels yet");
            PodMetadataSource source = new PodMetadataSource() {
                @Override
                public List<PodMetadata> pods() {
                    return List.of(new PodMetadata("x", "a", Map.of("pod", "a"), List.of()));
                }

                @Override
                public List<NamespaceMetadata> namespaces() {
                    return List.of();
                }
            };
            agent.bindSource(source);
            assertTrue(agent.compiled().pods().get(xa.hostIfIndex()).ingressIsolated());
            agent.unbindSource(source);
            assertTrue(!agent.compiled().pods().get(xa.hostIfIndex()).ingressIsolated());
        } finally {
            agent.stop();
        }
    }

    @Test
    void verdictCommand() throws Exception {
        Files.writeString(dir.resolve("p.yaml"), DENY_X + "---\n" + ConformanceSuite.fromTestResources().worldYaml());
        PolicyAgent agent = agent();
        agent.start();
        try {
            ConformanceSuite.PODS.forEach(p -> agent.podAdded(TestPods.world(p)));
            agent.podAdded(TestPods.pod("podman1", 99, "10.9.9.9", new PodIdentity("", "web", "", "")));
            assertEquals("""
                    10.9.2.1 -> 10.9.1.1 80/TCP: deny
                      Egress of y/a: not isolated (no policy with Egress selects it), allowed
                      Ingress of x/a: isolated by x/deny; no rule allows it, denied""", agent.verdict("y/a", "x/a", "80"));
            assertTrue(agent.verdict("10.9.1.2", "10.9.1.3", "81/udp").startsWith("10.9.1.2 -> 10.9.1.3 81/UDP: allow"));
            assertTrue(agent.verdict("web", "b", "80").startsWith("usage: "), "b is in x, y and z");
            assertTrue(agent.verdict("web", "b", "80").contains("'b' names 3 pods"));
            assertTrue(agent.verdict("web", "x/b", "80").startsWith("10.9.9.9 -> 10.9.1.2 80/TCP: allow"));
            assertTrue(agent.verdict("web", "x/b", "80/ICMP").contains("unknown protocol"));
            assertTrue(agent.verdict("127.0.0.1", "x/a", "80").contains("between a pod and its own node is always allowed"),
                    agent.verdict("127.0.0.1", "x/a", "80"));
            assertTrue(agent.policies().contains("x          deny  Ingress  pod=a"), agent.policies());
            assertTrue(agent.policies().endsWith("p.yaml\nno errors"), agent.policies());
        } finally {
            agent.stop();
        }
    }
}
