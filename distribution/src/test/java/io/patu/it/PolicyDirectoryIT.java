package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.patu.kernel.netns.NetNs;

/**
 * The policy feature in the assembled agent: pods named through CNI_ARGS get their labels from the policy
 * directory, the commands explain the policy in force and count what it allowed and denied per pod
 * ({@code patu:policystats}), and hostile policy files (malformed YAML, a 10 MB file,
 * deep nesting, wrong types, huge selectors, a good file broken) leave the agent up and the previous policy in
 * force.
 */
class PolicyDirectoryIT extends WithAgent {
    private static final String SHOP = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: shop, labels: {app: web}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: db, namespace: shop, labels: {app: db}}
            spec: {containers: [{name: pg, ports: [{name: pg, containerPort: 5432}]}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: db-from-web, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: db}}
              ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
            """;

    private String shell(String command) {
        AgentUnderTest.CniCall call = agent.shell(command);
        assertEquals(0, call.exitCode(), call.stdout());
        return call.stdout();
    }

    private Map<String, String> env(String command, String name, Path netns) {
        return Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", "it-" + agent.id + "-" + name, "CNI_NETNS", netns.toString(),
                "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni",
                "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=" + name + ";K8S_POD_UID=uid-" + name);
    }

    /**
     * web connects to db on 5432 (allowed) and on 5433 (denied by db's ingress rules): {@code patu:policystats}
     * shows db's INGRESS_DENIED and web's EGRESS_ALLOWED grown.
     */
    private void countersShowTheAllowedAndTheDeniedConnection(InetAddress db) throws Exception {
        try (PodProber dbPod = PodProber.start(agent, "patu-it-" + agent.id + "-db", 5432, 5433);
             PodProber webPod = PodProber.start(agent, "patu-it-" + agent.id + "-web", 5432, 5433)) {
            dbPod.awaitReady();
            webPod.awaitReady();
            Map<String, Long> dbBefore = policyStats("shop/db");
            Map<String, Long> webBefore = policyStats("shop/web");
            boolean[] reached = webPod.probe(1500, List.of(PodProber.target(db, 5432, "TCP"), PodProber.target(db, 5433, "TCP")));
            assertTrue(reached[0], "web reaches db on 5432");
            assertTrue(!reached[1], "web does not reach db on 5433");
            Map<String, Long> dbAfter = policyStats("shop/db");
            Map<String, Long> webAfter = policyStats("shop/web");
            System.out.println("PolicyDirectoryIT: patu:policystats after the probes:\n" + shell("patu:policystats"));
            assertTrue(dbAfter.get("INGRESS_DENIED") > dbBefore.get("INGRESS_DENIED"), "db's INGRESS_DENIED grew: " + dbBefore + " -> " + dbAfter);
            assertEquals(dbBefore.get("EGRESS_DENIED"), dbAfter.get("EGRESS_DENIED"), "db denied nothing it sent");
            assertTrue(webAfter.get("EGRESS_ALLOWED") > webBefore.get("EGRESS_ALLOWED"), "web's EGRESS_ALLOWED grew: " + webBefore + " -> " + webAfter);
            assertEquals(webBefore.get("EGRESS_DENIED"), webAfter.get("EGRESS_DENIED"), "web's own rules deny nothing (it is not isolated)");
        }
        String help = shell("patu:policystats help");
        assertTrue(help.contains("INGRESS_DENIED") && help.contains("packets"), help);
        assertTrue(shell("patu:policystats nosuchpod").startsWith("no pod 'nosuchpod'"));
    }

    /** One pod's row of {@code patu:policystats POD}, by column. */
    private Map<String, Long> policyStats(String pod) {
        String[] lines = shell("patu:policystats " + pod).split("\n");
        String[] header = lines[0].trim().split("\\s+");
        String[] cells = lines[1].trim().split("\\s+");
        assertEquals(pod, cells[0], String.join("\n", lines));
        Map<String, Long> row = new java.util.TreeMap<>();
        for (int i = 3; i < header.length; i++) {
            row.put(header[i], Long.parseLong(cells[i]));
        }
        return row;
    }

    @Test
    void podsAreMatchedByCniArgsAndHostileFilesLeaveThePolicyInForce() throws Exception {
        Path dir = Files.createDirectories(agent.work.resolve("policy"));
        List<String> created = new ArrayList<>();
        Map<String, InetAddress> addresses = new java.util.HashMap<>();
        try {
            for (String name : List.of("web", "db")) {
                String netnsName = "patu-it-" + agent.id + "-" + name;
                Path netns = NetNs.create(netnsName);
                created.add(netnsName);
                AgentUnderTest.CniCall add = agent.cni(env("ADD", name, netns), TestPod.CONFIG);
                AgentUnderTest.assertExit(0, add);
                String cidr = add.json().get("ips").get(0).get("address").asText();
                addresses.put(name, InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/'))));
            }
            assertTrue(shell("patu:pods").contains("shop/web"), shell("patu:pods"));

            long written = System.nanoTime();
            Files.writeString(dir.resolve("shop.yaml"), SHOP);
            AgentUnderTest.await("the policy in force", 10, () -> shell("patu:policies").contains("shop/db "));
            System.out.println("PolicyDirectoryIT: shop.yaml in force " + (System.nanoTime() - written) / 1_000_000
                    + " ms after it was written");
            String allowed = shell("patu:verdict shop/web shop/db 5432");
            assertTrue(allowed.contains(": allow") && allowed.contains("allowed by shop/db-from-web ingress rule 1"), allowed);
            assertTrue(shell("patu:verdict web db 5433").contains(": deny"));
            countersShowTheAllowedAndTheDeniedConnection(addresses.get("db"));

            byte[] big = new byte[10 << 20];
            java.util.Arrays.fill(big, (byte) '#');
            Files.write(dir.resolve("big.yaml"), big);
            Files.writeString(dir.resolve("malformed.yaml"), "apiVersion: v1\nkind: [Pod\n  metadata: {name: x\n");
            Files.writeString(dir.resolve("deep.json"), "[".repeat(500_000));
            Files.writeString(dir.resolve("types.yaml"), """
                    apiVersion: networking.k8s.io/v1
                    kind: NetworkPolicy
                    metadata: {name: wrong, namespace: shop}
                    spec: {podSelector: [], ingress: 5}
                    """);
            StringBuilder huge = new StringBuilder("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    + "metadata: {name: huge, namespace: shop}\nspec:\n  podSelector:\n    matchLabels:\n");
            for (int i = 0; i < 20_000; i++) {
                huge.append("      k").append(i).append(": v\n");
            }
            Files.writeString(dir.resolve("huge.yaml"), huge);
            // The good file broken: its previous content stays.
            Files.writeString(dir.resolve("shop.yaml"), SHOP.replace("ports: [{port: pg}]", "ports: [{port: pg"));
            AgentUnderTest.await("six errors listed", 10, () -> shell("patu:policies").contains("6 errors:"));
            String policies = shell("patu:policies");
            assertTrue(policies.contains("big.yaml: larger than 1048576 bytes"), policies);
            assertTrue(policies.contains("shop.yaml: does not parse as YAML") && policies.contains("its previous content stays in force"), policies);
            assertTrue(policies.contains("types.yaml: NetworkPolicy shop/wrong: spec.podSelector: not an object"), policies);
            assertTrue(policies.contains("huge.yaml: NetworkPolicy shop/huge: spec.podSelector.matchLabels: more than 64 labels"), policies);
            assertTrue(agent.isAlive(), "the agent is up");
            assertTrue(shell("patu:verdict shop/web shop/db 5432").contains(": allow"), "the previous policy is in force");
            assertTrue(shell("patu:verdict shop/web shop/db 5433").contains(": deny"));
            AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"1.0.0\"}"));
        } finally {
            for (String netnsName : created) {
                String name = netnsName.substring(netnsName.lastIndexOf('-') + 1);
                agent.cni(env("DEL", name, NetNs.pathOf(netnsName)), TestPod.CONFIG);
                NetNs.delete(netnsName);
            }
        }
    }
}
