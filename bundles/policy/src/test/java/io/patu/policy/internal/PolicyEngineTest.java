package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.NamedPort;
import io.patu.api.Pod;
import io.patu.api.PodIdentity;
import io.patu.api.PodMetadata;

/** Semantics the conformance cases do not reach: flattening, IPv6, named ports per peer, pods without metadata. */
class PolicyEngineTest {
    private static final Pod WEB = TestPods.pod("web", 11, "10.9.0.11", new PodIdentity("shop", "web", "", ""));
    private static final Pod DB = TestPods.pod("db", 12, "10.9.0.12", new PodIdentity("shop", "db", "", ""));
    private static final Pod ANON = TestPods.pod("anon", 13, "10.9.0.13", PodIdentity.NONE);
    private static final Pod V6 = TestPods.pod("v6", 14, "fd00::14", new PodIdentity("shop", "v6", "", ""));
    private static final List<PodMetadata> METADATA = List.of(
            new PodMetadata("shop", "web", java.util.Map.of("app", "web"), List.of(new NamedPort("http", "TCP", 8080))),
            new PodMetadata("shop", "db", java.util.Map.of("app", "db"), List.of(new NamedPort("http", "TCP", 9090))),
            new PodMetadata("shop", "v6", java.util.Map.of("app", "v6"), List.of()));

    private static PolicyInputs inputs(String yaml, Pod... pods) throws IOException {
        FileContent content = PolicyFiles.parse(yaml.getBytes(StandardCharsets.UTF_8), "t.yaml", false);
        assertEquals(List.of(), content.problems());
        return PolicyInputs.of(content.policies(), content.namespaces(), METADATA, List.of(pods));
    }

    private static boolean allowed(PolicyInputs inputs, Pod from, String to, int protocol, int port) {
        InetAddress destination = InetAddress.ofLiteral(to);
        boolean explained = PolicyEngine.explain(inputs, from.addresses().getFirst().address(), destination, protocol, port).allowed();
        PodRules rules = PolicyEngine.compile(inputs, 1).pods().get(from.hostIfIndex());
        boolean compiled = !rules.egressIsolated() || TestPods.lookup(rules.egress(), destination, protocol, port);
        assertEquals(explained, compiled, "explain and compiled agree for " + to + " " + port);
        return compiled;
    }

    @Test
    void anExceptOfOneRuleNeverVetoesAnotherRule() throws IOException {
        PolicyInputs inputs = inputs("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: out, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  policyTypes: [Egress]
                  egress:
                  - to: [{ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]
                  - to: [{ipBlock: {cidr: 192.168.1.0/26}}]
                    ports: [{port: 53, protocol: UDP}]
                  - to: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]
                """, WEB);
        assertTrue(allowed(inputs, WEB, "192.168.7.7", 6, 443));
        assertFalse(allowed(inputs, WEB, "192.168.1.7", 6, 443), "in the except, and the other rule is UDP 53 only");
        assertTrue(allowed(inputs, WEB, "192.168.1.7", 17, 53), "the except does not veto the second rule");
        assertFalse(allowed(inputs, WEB, "192.168.1.70", 17, 53), "outside the /26");
        assertFalse(allowed(inputs, WEB, "10.1.1.1", 6, 80));
        assertTrue(allowed(inputs, WEB, "2001:db8:2::1", 6, 80));
        assertFalse(allowed(inputs, WEB, "2001:db8:1::1", 6, 80));
        List<PeerRule> egress = PolicyEngine.compile(inputs, 1).pods().get(11).egress();
        assertEquals(5, egress.size(), "192.168/16, 192.168.1/24 (deny), 192.168.1.0/26 (UDP 53), 2001:db8::/32, 2001:db8:1::/48 (deny): " + egress);
    }

    @Test
    void namedPortsResolveOnEachDestinationPod() throws IOException {
        PolicyInputs inputs = inputs("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: out, namespace: shop}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                  egress: [{ports: [{port: http}]}]
                """, WEB, DB, ANON);
        assertTrue(allowed(inputs, WEB, "10.9.0.12", 6, 9090), "db's http");
        assertFalse(allowed(inputs, WEB, "10.9.0.12", 6, 8080), "web's http is not db's");
        assertTrue(allowed(inputs, DB, "10.9.0.11", 6, 8080));
        assertFalse(allowed(inputs, DB, "10.9.0.13", 6, 8080), "a pod without metadata has no named ports");
        assertFalse(allowed(inputs, DB, "1.1.1.1", 6, 8080), "outside addresses have none either");
    }

    @Test
    void aPodWithoutMetadataIsInDefaultWithNoLabels() throws IOException {
        PolicyInputs inputs = inputs("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: isolate-default}
                spec: {podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}
                """, WEB, ANON);
        LocalPod anon = inputs.pods().get(1);
        assertEquals("default/anon", anon.displayName());
        assertEquals(List.of("default/anon"), PolicyEngine.selected(inputs, inputs.policies().getFirst()).stream().map(LocalPod::displayName).toList());
        Verdict verdict = PolicyEngine.explain(inputs, WEB.addresses().getFirst().address(), ANON.addresses().getFirst().address(), 6, 80);
        assertFalse(verdict.allowed());
        assertEquals(List.of("default/isolate-default"), verdict.ingress().isolatedBy());
        assertEquals("kubernetes.io/metadata.name=default", inputs.labelsOf("default").entrySet().iterator().next().toString());
    }

    @Test
    void ipv6PodsAreSelectedAndMatched() throws IOException {
        PolicyInputs inputs = inputs("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: v6-only-from-web, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: v6}}
                  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: "fd00::/120"}}], ports: [{port: 80}]}]
                """, WEB, V6);
        PodRules rules = PolicyEngine.compile(inputs, 7).pods().get(14);
        assertTrue(rules.ingressIsolated() && !rules.egressIsolated());
        assertTrue(TestPods.lookup(rules.ingress(), InetAddress.ofLiteral("10.9.0.11"), 6, 80));
        assertTrue(TestPods.lookup(rules.ingress(), InetAddress.ofLiteral("fd00::99"), 6, 80));
        assertFalse(TestPods.lookup(rules.ingress(), InetAddress.ofLiteral("fd00::199"), 6, 80));
        assertFalse(TestPods.lookup(rules.ingress(), InetAddress.ofLiteral("fd00::99"), 17, 80));
        assertEquals(7, PolicyEngine.compile(inputs, 7).generation());
    }

    @Test
    void portsMergeAndEverythingWins() {
        assertEquals(List.of(new PortRange(6, 80, 90), new PortRange(17, 53, 53)), Flattener.merge(List.of(
                new PortRange(17, 53, 53), new PortRange(6, 85, 90), new PortRange(6, 80, 84), new PortRange(6, 81, 82))));
        assertEquals(List.of(PortRange.EVERYTHING), Flattener.merge(List.of(new PortRange(6, 1, 2), PortRange.EVERYTHING)));
    }

    @Test
    void everyLocalPodIsInTheCompiledPolicy() throws IOException {
        CompiledPolicy compiled = PolicyEngine.compile(inputs("", WEB, DB, ANON), 1);
        assertEquals(3, compiled.pods().size());
        assertTrue(compiled.pods().values().stream().noneMatch(r -> r.ingressIsolated() || r.egressIsolated()));
    }

    /** A policy that isolates app=APP in namespace shop for egress and lets it reach DNS in 10/8 but 10.9/16. */
    private static String dnsEgressOnly(String name, String app) {
        return """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: %s, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: %s}}
                  policyTypes: [Egress]
                  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}], ports: [{port: 53, protocol: UDP}]}]
                """.formatted(name, app);
    }

    private static void assertSameInstances(List<PeerRule> expected, List<PeerRule> actual, String message) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertTrue(expected.get(i) == actual.get(i), message + expected.get(i));
        }
    }

    @Test
    void equalEntriesAreOneInstanceWithinAndAcrossCompilations() throws IOException {
        // WEB and DB are isolated by different policies with equal egress rules: equal entries, other lists.
        String yaml = dnsEgressOnly("a", "web") + "---\n" + dnsEgressOnly("b", "db");
        PolicyEngine.Memo memo = new PolicyEngine.Memo();
        CompiledPolicy first = PolicyEngine.compile(inputs(yaml, WEB, DB), 1, memo);
        List<PeerRule> web = first.pods().get(WEB.hostIfIndex()).egress();
        List<PeerRule> db = first.pods().get(DB.hostIfIndex()).egress();
        assertEquals(web, db);
        assertFalse(web.isEmpty());
        assertSameInstances(web, db, "one instance for ");
        // A pod added changes the world: every entry is flattened again, and the equal ones are those kept.
        CompiledPolicy second = PolicyEngine.compile(inputs(yaml, WEB, DB, ANON), 2, memo);
        assertEquals(2, memo.computed);
        List<PeerRule> again = second.pods().get(WEB.hostIfIndex()).egress();
        assertEquals(web, again);
        assertSameInstances(web, again, "the instance of the compilation before for ");
    }
}
