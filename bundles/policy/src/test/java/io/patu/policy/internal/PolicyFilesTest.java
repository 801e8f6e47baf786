package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Policy files: what is accepted, and the message naming file and field for what is not. */
class PolicyFilesTest {
    private static final String HEAD = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: shop}
            spec:
              podSelector: {}
            """;

    static FileContent yaml(String text) throws IOException {
        return PolicyFiles.parse(text.getBytes(StandardCharsets.UTF_8), "f.yaml", false);
    }

    @Test
    void multiDocumentYamlWithEveryKind() throws IOException {
        FileContent content = yaml(HEAD + """
                  ingress:
                  - from:
                    - namespaceSelector: {matchLabels: {team: a}}
                      podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [db]}]}
                    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
                    ports: [{port: 80}, {port: 8000, endPort: 8100, protocol: UDP}, {port: http, protocol: SCTP}]
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: shop, labels: {team: a}}
                ---
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: web-0, namespace: shop, labels: {app: web}}
                spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
                """);
        assertEquals(List.of(), content.problems());
        NetworkPolicy policy = content.policies().getFirst();
        assertEquals("shop/p", policy.qualifiedName());
        assertTrue(policy.affectsIngress() && !policy.affectsEgress(), "Ingress implied, Egress not");
        PolicyRule rule = policy.ingress().getFirst();
        assertEquals(2, rule.peers().size());
        assertEquals(List.of(new PolicyPort(6, 80, 80, null), new PolicyPort(17, 8000, 8100, null), new PolicyPort(132, 0, 0, "http")),
                rule.ports());
        assertEquals("shop", content.namespaces().getFirst().name());
        assertEquals("http", content.pods().getFirst().namedPorts().getFirst().name());
    }

    @Test
    void jsonAndKubectlLists() throws IOException {
        FileContent content = PolicyFiles.parse("""
                {"apiVersion": "v1", "kind": "List", "items": [
                  {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "a"},
                   "spec": {"podSelector": {}, "egress": [{}]}}]}
                """.getBytes(StandardCharsets.UTF_8), "f.json", true);
        NetworkPolicy policy = content.policies().getFirst();
        assertEquals("default/a", policy.qualifiedName());
        assertTrue(policy.affectsIngress() && policy.affectsEgress(), "egress rules imply Egress");
    }

    @Test
    void emptyPolicyTypesMeansTheDefaults() throws IOException {
        NetworkPolicy policy = yaml(HEAD + "  policyTypes: []\n").policies().getFirst();
        assertTrue(policy.affectsIngress() && !policy.affectsEgress());
        policy = yaml(HEAD + "  policyTypes: [Egress]\n  ingress: [{}]\n").policies().getFirst();
        assertTrue(!policy.affectsIngress() && policy.affectsEgress(), "policyTypes given: ingress rules do not add Ingress");
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', ignoreLeadingAndTrailingWhitespace = false, value = {
            "  ingress: [{from: [{podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}}]}]"
                    + "|spec.ingress[0].from[0].podSelector.matchExpressions[0].operator|'Equals' is not an operator",
            "  ingress: [{from: [{podSelector: {matchExpressions: [{key: app, operator: In}]}}]}]"
                    + "|spec.ingress[0].from[0].podSelector.matchExpressions[0].values|must not be empty for In",
            "  ingress: [{from: [{podSelector: {matchExpressions: [{key: app, operator: Exists, values: [x]}]}}]}]"
                    + "|spec.ingress[0].from[0].podSelector.matchExpressions[0].values|must be empty for Exists",
            "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]"
                    + "|spec.egress[0].to[0].ipBlock.except[0]|10.1.0.0/24 is not strictly inside the cidr 10.0.0.0/16",
            "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]"
                    + "|spec.egress[0].to[0].ipBlock.except[0]|not strictly inside",
            "  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/16}}]}]|spec.egress[0].to[0].ipBlock.cidr|has host bits set",
            "  egress: [{to: [{ipBlock: {cidr: example.com/8}}]}]|spec.egress[0].to[0].ipBlock.cidr|not an IP literal",
            "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]|spec.egress[0].to[0]|cannot be combined",
            "  egress: [{to: [{}]}]|spec.egress[0].to[0]|needs podSelector, namespaceSelector or ipBlock",
            "  ingress: [{ports: [{port: 90, endPort: 80}]}]|spec.ingress[0].ports[0].endPort|endPort 80 is less than port 90",
            "  ingress: [{ports: [{port: http, endPort: 90}]}]|spec.ingress[0].ports[0].endPort|cannot be used with the named port",
            "  ingress: [{ports: [{endPort: 90}]}]|spec.ingress[0].ports[0].endPort|needs a numeric port",
            "  ingress: [{ports: [{port: 70000}]}]|spec.ingress[0].ports[0].port|70000 is not in 1..65535",
            "  ingress: [{ports: [{port: 80, protocol: ICMP}]}]|spec.ingress[0].ports[0].protocol|'ICMP' is not a protocol",
            "  ingress: [{ports: [{port: Not_A_Name}]}]|spec.ingress[0].ports[0].port|is not a port name",
            "  ingress: {from: []}|spec.ingress|not a list",
            "  ingress: [{from: [{podSelector: {matchLabels: {app: [a, b]}}}]}]|spec.ingress[0].from[0].podSelector.matchLabels.app|not a string but a list",
            "  ingress: [{from: [{podSelector: {matchLabels: {app: 1}}}]}]|spec.ingress[0].from[0].podSelector.matchLabels.app|a number (quote it)",
            "  ingress: [{from: [{podSelector: {matchLabels: {-bad-: a}}}]}]|spec.ingress[0].from[0].podSelector.matchLabels.-bad-|is not a label key",
            "  policyTypes: [Ingress, Both]|spec.policyTypes[1]|'Both' is not a policy type",
    })
    void invalidObjectsNameFileAndField(String spec, String field, String message) throws IOException {
        FileContent content = yaml(HEAD + spec + "\n" + """
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: fine, namespace: shop}
                spec: {podSelector: {}}
                """);
        assertEquals(1, content.problems().size(), content.problems().toString());
        Problem problem = content.problems().getFirst();
        assertEquals("f.yaml", problem.file());
        assertEquals("NetworkPolicy shop/p", problem.object());
        assertEquals(field, problem.field());
        assertTrue(problem.message().contains(message), problem.message());
        assertEquals(List.of("NetworkPolicy shop/p"), content.rejected());
        assertEquals(List.of("shop/fine"), content.policies().stream().map(NetworkPolicy::qualifiedName).toList(),
                "the rest of the file keeps working");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "apiVersion: networking.k8s.io/v1beta1|kind: NetworkPolicy|apiVersion|unknown apiVersion 'networking.k8s.io/v1beta1'",
            "apiVersion: v1|kind: Service|kind|unknown kind 'Service'",
            "apiVersion: 1|kind: Pod|apiVersion|missing or not a string",
    })
    void unknownApiVersionOrKind(String apiVersion, String kind, String field, String message) throws IOException {
        FileContent content = yaml(apiVersion + "\n" + kind + "\nmetadata: {name: n}\n");
        Problem problem = content.problems().getFirst();
        assertEquals(field, problem.field());
        assertTrue(problem.message().contains(message), problem.message());
    }

    @Test
    void malformedYamlFailsTheWholeFile() {
        IOException e = assertThrows(IOException.class, () -> yaml(HEAD + "  ingress: [{from: [\n---\nkind: x\n"));
        assertTrue(e.getMessage().startsWith("does not parse as YAML"), e.getMessage());
        assertThrows(IOException.class, () -> yaml("a: b\na: c\n"), "duplicate keys");
        assertThrows(IOException.class, () -> PolicyFiles.parse("{\"a\": }".getBytes(StandardCharsets.UTF_8), "f.json", true));
    }

    @Test
    void deepNestingFailsTheFileWithoutOverflowingTheStack() {
        String deep = "a: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n";
        IOException e = assertThrows(IOException.class, () -> yaml(deep));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());
        String deepJson = "[".repeat(100_000) + "]".repeat(100_000);
        assertThrows(IOException.class, () -> PolicyFiles.parse(deepJson.getBytes(StandardCharsets.UTF_8), "f.json", true));
    }

    /** Jackson's YAML parser reads an alias as the anchor's name, never as a copy: a "billion laughs" stays small. */
    @Test
    void aliasBombsDoNotExpand() throws IOException {
        StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            char p = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *").append(p)
                    .append(", *").append(p).append(", *").append(p).append(", *").append(p).append("]\n");
        }
        long started = System.nanoTime();
        FileContent content = yaml(bomb.toString());
        assertTrue(System.nanoTime() - started < 2_000_000_000L, "parsed in under 2 s");
        assertEquals("apiVersion", content.problems().getFirst().field());
    }

    @Test
    void hugeSelectorsAreRejectedAsObjects() throws IOException {
        StringBuilder labels = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            labels.append(i == 0 ? "" : ", ").append("k").append(i).append(": v");
        }
        FileContent content = yaml(HEAD.replace("podSelector: {}", "podSelector: {matchLabels: {" + labels + "}}"));
        assertEquals("spec.podSelector.matchLabels", content.problems().getFirst().field());
        assertTrue(content.problems().getFirst().message().contains("more than 64 labels"));
        String values = "v,".repeat(65);
        content = yaml(HEAD.replace("podSelector: {}", "podSelector: {matchExpressions: [{key: k, operator: In, values: [" + values + "]}]}"));
        assertTrue(content.problems().getFirst().message().contains("more than 64 values"), content.problems().toString());
        content = yaml(HEAD + "  ingress: [" + "{},".repeat(300) + "]\n");
        assertTrue(content.problems().getFirst().message().contains("more than 256 rules"));
    }

    @Test
    void tooManyDocumentsFailTheFile() {
        assertThrows(IOException.class, () -> yaml("---\na: 1\n".repeat(PolicyFiles.MAX_DOCUMENTS + 1)));
    }

    @Test
    void longStringsAreRefused() throws IOException {
        assertEquals("metadata.name", yaml(HEAD.replace("name: p", "name: " + "p".repeat(300))).problems().getFirst().field());
        assertThrows(IOException.class, () -> PolicyFiles.parse(("{\"a\": \"" + "p".repeat(5000) + "\"}")
                .getBytes(StandardCharsets.UTF_8), "f.json", true));
    }

    /** Whole-file parse, against the parse that reuses documents; both must give the same content or error. */
    private static void sameAsWhole(String text, java.util.Map<String, PolicyFiles.Chunk> previous) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        FileContent whole;
        try {
            whole = PolicyFiles.parse(bytes, "f.yaml", false);
        } catch (IOException wholeFailed) {
            IOException chunked = assertThrows(IOException.class, () -> PolicyFiles.parse(bytes, "f.yaml", false, previous, new java.util.HashMap<>()));
            assertEquals(wholeFailed.getMessage(), chunked.getMessage(), text);
            return;
        }
        assertEquals(whole, PolicyFiles.parse(bytes, "f.yaml", false, previous, new java.util.HashMap<>()), text);
    }

    @Test
    void documentsReadOneByOneGiveWhatTheWholeFileGives() throws Exception {
        List<String> texts = new java.util.ArrayList<>();
        String valid = HEAD + "  ingress: [{from: [{podSelector: {}}]}]\n";
        String invalid = HEAD.replace("name: p", "name: q") + "  ingress: [{ports: [{port: 80, endPort: 70}]}]\n";
        String unnamed = "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n";
        texts.add(valid);
        texts.add("---\n" + valid);
        texts.add("# a comment\n---\n" + valid + "---\n" + invalid + "---\n---\n# only a comment\n--- \n" + unnamed);
        texts.add(valid + "---\n" + valid.replace("name: p", "name: r") + "---\n");
        texts.add(valid + "--- # a comment on the marker\n" + invalid);
        texts.add("--- {apiVersion: v1, kind: Namespace, metadata: {name: n}}\n--- [1, 2]\n--- plain text\n---\n");
        texts.add(valid + "---\n" + "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {a: \"x\n---\n\"}}\n");
        texts.add(valid + "---\nkey: |\n  block\n---\n" + valid);
        texts.add(valid + "...\n---\n" + valid);
        texts.add("%YAML 1.2\n---\n" + valid);
        texts.add(valid + "---\n{ unclosed: [\n---\n" + valid);
        texts.add(valid + "---\n" + valid + "---\n" + valid); // the same object three times
        texts.add(valid.replace("\n", "\r\n") + "---\r\n" + invalid.replace("\n", "\r\n"));
        texts.add("---\n".repeat(PolicyFiles.MAX_DOCUMENTS + 1));
        try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("src/test/resources/conformance"))) {
            for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                texts.add(java.nio.file.Files.readString(file));
            }
        }
        for (String text : texts) {
            sameAsWhole(text, java.util.Map.of());
        }
        // And with the documents of another version at hand: a changed document is parsed, the others reused.
        java.util.Map<String, PolicyFiles.Chunk> chunks = new java.util.HashMap<>();
        String before = valid + "---\n" + valid.replace("name: p", "name: r") + "---\n" + invalid;
        FileContent first = PolicyFiles.parse(before.getBytes(StandardCharsets.UTF_8), "f.yaml", false, java.util.Map.of(), chunks);
        assertEquals(2, chunks.size(), "the two valid documents are kept, the invalid one is not");
        String after = valid + "---\n" + valid.replace("name: p", "name: s") + "---\n" + invalid;
        java.util.Map<String, PolicyFiles.Chunk> next = new java.util.HashMap<>();
        FileContent second = PolicyFiles.parse(after.getBytes(StandardCharsets.UTF_8), "f.yaml", false, chunks, next);
        assertTrue(first.policies().getFirst() == second.policies().getFirst(), "the unchanged document was not parsed again");
        assertEquals(PolicyFiles.parse(after.getBytes(StandardCharsets.UTF_8), "f.yaml", false), second);
        for (String text : texts) {
            sameAsWhole(text, chunks);
            sameAsWhole(text, next);
        }
    }
}
