package io.patu.policy.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.NamedPort;
import io.patu.api.NamespaceMetadata;
import io.patu.api.PodMetadata;
import io.patu.api.PodIdentity;

/**
 * Turns the documents of one policy file into validated objects: {@code networking.k8s.io/v1}
 * NetworkPolicy, {@code v1} Namespace and Pod (and {@code v1} List of those, as {@code kubectl get -o yaml}
 * writes). Each invalid object becomes a {@link Problem} naming its field; the other objects are kept.
 * Fields Patu does not use are ignored, as the API server ignores unknown fields of a client.
 *
 * <p>Sizes are bounded here as well as by the parser, so that a valid-looking file cannot make the engine's
 * work explode: selectors, rules, peers and ports have the limits below.
 */
final class KubernetesObjects {
    static final int MAX_LABELS = 64;
    static final int MAX_EXPRESSIONS = 32;
    static final int MAX_VALUES = 64;
    static final int MAX_RULES = 256;
    static final int MAX_PEERS = 256;
    static final int MAX_PORTS = 256;
    static final int MAX_EXCEPT = 64;
    static final int MAX_CONTAINERS = 64;
    static final int MAX_LIST_ITEMS = 4096;

    /** RFC 1123 subdomain (object names, label key prefixes) and label names/values, as Kubernetes checks them. */
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    /** IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', a letter somewhere, no "--", no '-' at an end. */
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    private final String file;
    private final List<NetworkPolicy> policies = new ArrayList<>();
    private final List<NamespaceMetadata> namespaces = new ArrayList<>();
    private final List<PodMetadata> pods = new ArrayList<>();
    private final List<Problem> problems = new ArrayList<>();
    private final List<String> rejected = new ArrayList<>();

    private KubernetesObjects(String file) {
        this.file = file;
    }

    /** The objects of {@code documents} (null documents, empty YAML ones, are skipped). */
    static FileContent read(String file, List<JsonNode> documents) {
        return read(file, documents, 0);
    }

    /** As {@link #read(String, List)} for documents that follow {@code before} others of the same file. */
    static FileContent read(String file, List<JsonNode> documents, int before) {
        KubernetesObjects objects = new KubernetesObjects(file);
        for (int i = 0; i < documents.size(); i++) {
            JsonNode document = documents.get(i);
            // An empty YAML document (between two "---", or only comments) is no object.
            if (document != null && !document.isNull() && !(document.isTextual() && document.textValue().isEmpty())) {
                objects.object(document, "document " + (before + i + 1), "");
            }
        }
        return new FileContent(objects.policies, objects.namespaces, objects.pods, objects.problems, objects.rejected);
    }

    /** A field that is wrong: where, and why. */
    static final class Invalid extends RuntimeException {
        final String field;

        Invalid(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }

    private void object(JsonNode node, String where, String prefix) {
        if (!node.isObject()) {
            problems.add(new Problem(file, where, prefix, "is not an object (a Kubernetes object is a mapping)"));
            return;
        }
        String apiVersion = node.path("apiVersion").isTextual() ? node.path("apiVersion").textValue() : null;
        String kind = node.path("kind").isTextual() ? node.path("kind").textValue() : null;
        String name = node.path("metadata").path("name").isTextual() ? node.path("metadata").path("name").textValue() : null;
        String label = kind != null && name != null ? kind + " " + name : where;
        try {
            if (apiVersion == null) {
                throw new Invalid(prefix + "apiVersion", "missing or not a string");
            }
            if (kind == null) {
                throw new Invalid(prefix + "kind", "missing or not a string");
            }
            switch (apiVersion + " " + kind) {
                case "networking.k8s.io/v1 NetworkPolicy" -> {
                    String namespace = namespace(node, prefix);
                    label = FileContent.identity(kind, namespace, name == null ? "?" : name);
                    policies.add(policy(node, prefix, namespace));
                }
                case "v1 Namespace" -> {
                    label = FileContent.identity(kind, null, name == null ? "?" : name);
                    namespaces.add(new NamespaceMetadata(name(node, prefix, DNS_LABEL, 63),
                            labels(node.path("metadata").get("labels"), prefix + "metadata.labels")));
                }
                case "v1 Pod" -> {
                    String namespace = namespace(node, prefix);
                    label = FileContent.identity(kind, namespace, name == null ? "?" : name);
                    pods.add(pod(node, prefix, namespace));
                }
                case "v1 List" -> {
                    JsonNode items = node.get("items");
                    if (items == null || !items.isArray()) {
                        throw new Invalid(prefix + "items", "missing or not a list");
                    }
                    if (items.size() > MAX_LIST_ITEMS) {
                        throw new Invalid(prefix + "items", "more than " + MAX_LIST_ITEMS + " items");
                    }
                    for (int i = 0; i < items.size(); i++) {
                        object(items.get(i), where + " item " + (i + 1), prefix + "items[" + i + "].");
                    }
                }
                default -> {
                    if (!Set.of("networking.k8s.io/v1", "v1").contains(apiVersion)) {
                        throw new Invalid(prefix + "apiVersion", "unknown apiVersion '" + printable(apiVersion)
                                + "': Patu reads networking.k8s.io/v1 NetworkPolicy, v1 Namespace, v1 Pod and v1 List");
                    }
                    throw new Invalid(prefix + "kind", "unknown kind '" + printable(kind) + "' for apiVersion " + apiVersion
                            + ": Patu reads networking.k8s.io/v1 NetworkPolicy, v1 Namespace, v1 Pod and v1 List");
                }
            }
        } catch (Invalid e) {
            problems.add(new Problem(file, label, e.field, e.getMessage()));
            if (name != null && !label.equals(where)) {
                rejected.add(label);
            }
        }
    }

    private static String namespace(JsonNode node, String prefix) {
        JsonNode namespace = node.path("metadata").get("namespace");
        if (namespace == null || namespace.isNull()) {
            return PodIdentity.DEFAULT_NAMESPACE;
        }
        String field = prefix + "metadata.namespace";
        String value = text(namespace, field);
        check(value.length() <= 63 && DNS_LABEL.matcher(value).matches(), field, "'" + printable(value)
                + "' is not a namespace name (lowercase letters, digits and '-', at most 63)");
        return value;
    }

    private static String name(JsonNode node, String prefix, Pattern pattern, int max) {
        JsonNode name = node.path("metadata").get("name");
        String field = prefix + "metadata.name";
        if (name == null) {
            throw new Invalid(field, "missing");
        }
        String value = text(name, field);
        check(value.length() <= max && pattern.matcher(value).matches(), field, "'" + printable(value)
                + "' is not a valid name (lowercase letters, digits, '-' and '.', at most " + max + ")");
        return value;
    }

    private NetworkPolicy policy(JsonNode node, String prefix, String namespace) {
        String name = name(node, prefix, DNS_SUBDOMAIN, 253);
        JsonNode spec = node.get("spec");
        String at = prefix + "spec";
        if (spec == null || !spec.isObject()) {
            throw new Invalid(at, "missing or not an object");
        }
        JsonNode podSelector = spec.get("podSelector");
        if (podSelector == null) {
            throw new Invalid(at + ".podSelector", "missing: {} selects every pod of the namespace");
        }
        Selector selected = selector(podSelector, at + ".podSelector");
        List<PolicyRule> ingress = rules(spec.get("ingress"), at + ".ingress", "from");
        List<PolicyRule> egress = rules(spec.get("egress"), at + ".egress", "to");
        boolean affectsIngress;
        boolean affectsEgress;
        JsonNode types = spec.get("policyTypes");
        if (types == null || types.isNull() || types.isArray() && types.isEmpty()) {
            // Kubernetes' defaulting (also for an empty list): Ingress always, Egress when the policy has egress rules.
            affectsIngress = true;
            affectsEgress = !egress.isEmpty();
        } else {
            check(types.isArray(), at + ".policyTypes", "not a list");
            check(types.size() <= 2, at + ".policyTypes", "more than 2 entries");
            affectsIngress = false;
            affectsEgress = false;
            for (int i = 0; i < types.size(); i++) {
                String type = text(types.get(i), at + ".policyTypes[" + i + "]");
                switch (type) {
                    case "Ingress" -> affectsIngress = true;
                    case "Egress" -> affectsEgress = true;
                    default -> throw new Invalid(at + ".policyTypes[" + i + "]", "'" + printable(type)
                            + "' is not a policy type (Ingress or Egress)");
                }
            }
        }
        return new NetworkPolicy(file, namespace, name, selected, affectsIngress, affectsEgress, ingress, egress);
    }

    private static List<PolicyRule> rules(JsonNode node, String at, String peersField) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        check(node.isArray(), at, "not a list");
        check(node.size() <= MAX_RULES, at, "more than " + MAX_RULES + " rules");
        List<PolicyRule> rules = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode rule = node.get(i);
            String ruleAt = at + "[" + i + "]";
            check(rule.isObject(), ruleAt, "not an object");
            rules.add(new PolicyRule(peers(rule.get(peersField), ruleAt + "." + peersField), ports(rule.get("ports"), ruleAt + ".ports")));
        }
        return rules;
    }

    private static List<Peer> peers(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        check(node.isArray(), at, "not a list");
        check(node.size() <= MAX_PEERS, at, "more than " + MAX_PEERS + " peers");
        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode peer = node.get(i);
            String peerAt = at + "[" + i + "]";
            check(peer.isObject(), peerAt, "not an object");
            JsonNode podSelector = peer.get("podSelector");
            JsonNode namespaceSelector = peer.get("namespaceSelector");
            JsonNode ipBlock = peer.get("ipBlock");
            boolean selectors = present(podSelector) || present(namespaceSelector);
            if (present(ipBlock)) {
                check(!selectors, peerAt, "ipBlock cannot be combined with podSelector or namespaceSelector");
                peers.add(ipBlock(ipBlock, peerAt + ".ipBlock"));
            } else {
                check(selectors, peerAt, "needs podSelector, namespaceSelector or ipBlock");
                peers.add(new Peer(present(podSelector) ? selector(podSelector, peerAt + ".podSelector") : null,
                        present(namespaceSelector) ? selector(namespaceSelector, peerAt + ".namespaceSelector") : null,
                        null, List.of()));
            }
        }
        return peers;
    }

    private static Peer ipBlock(JsonNode node, String at) {
        check(node.isObject(), at, "not an object");
        JsonNode cidrNode = node.get("cidr");
        check(cidrNode != null, at + ".cidr", "missing");
        Cidr cidr = cidr(text(cidrNode, at + ".cidr"), at + ".cidr");
        List<Cidr> except = new ArrayList<>();
        JsonNode exceptNode = node.get("except");
        if (present(exceptNode)) {
            check(exceptNode.isArray(), at + ".except", "not a list");
            check(exceptNode.size() <= MAX_EXCEPT, at + ".except", "more than " + MAX_EXCEPT + " entries");
            for (int i = 0; i < exceptNode.size(); i++) {
                String exceptAt = at + ".except[" + i + "]";
                Cidr hole = cidr(text(exceptNode.get(i), exceptAt), exceptAt);
                check(cidr.contains(hole) && hole.length() > cidr.length(), exceptAt,
                        hole + " is not strictly inside the cidr " + cidr);
                except.add(hole);
            }
        }
        return new Peer(null, null, cidr, except);
    }

    private static Cidr cidr(String text, String at) {
        try {
            return Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new Invalid(at, printable(e.getMessage()));
        }
    }

    private static List<PolicyPort> ports(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        check(node.isArray(), at, "not a list");
        check(node.size() <= MAX_PORTS, at, "more than " + MAX_PORTS + " ports");
        List<PolicyPort> ports = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode port = node.get(i);
            String portAt = at + "[" + i + "]";
            check(port.isObject(), portAt, "not an object");
            int protocol = protocol(port.get("protocol"), portAt + ".protocol");
            JsonNode number = port.get("port");
            JsonNode end = port.get("endPort");
            if (!present(number)) {
                check(!present(end), portAt + ".endPort", "endPort needs a numeric port");
                ports.add(new PolicyPort(protocol, 0, 65535, null));
            } else if (number.isTextual()) {
                String name = number.textValue();
                check(!present(end), portAt + ".endPort", "endPort cannot be used with the named port '" + printable(name) + "'");
                checkPortName(name, portAt + ".port");
                ports.add(new PolicyPort(protocol, 0, 0, name));
            } else {
                int first = portNumber(number, portAt + ".port");
                int last = first;
                if (present(end)) {
                    last = portNumber(end, portAt + ".endPort");
                    check(last >= first, portAt + ".endPort", "endPort " + last + " is less than port " + first);
                }
                ports.add(new PolicyPort(protocol, first, last, null));
            }
        }
        return ports;
    }

    private static int protocol(JsonNode node, String at) {
        if (!present(node)) {
            return PolicyPort.TCP;
        }
        String name = text(node, at);
        int number = PolicyPort.protocolNumber(name);
        check(number > 0, at, "'" + printable(name) + "' is not a protocol (TCP, UDP or SCTP)");
        return number;
    }

    private static int portNumber(JsonNode node, String at) {
        check(node.isIntegralNumber() && node.canConvertToInt(), at, "not an integer or a port name");
        int port = node.intValue();
        check(port >= 1 && port <= 65535, at, port + " is not in 1..65535");
        return port;
    }

    private static void checkPortName(String name, String at) {
        check(name.length() <= 15 && PORT_NAME.matcher(name).matches() && !name.contains("--")
                && name.chars().anyMatch(Character::isLetter), at,
                "'" + printable(name) + "' is not a port name (at most 15 lowercase letters, digits and '-', with a letter)");
    }

    private static Selector selector(JsonNode node, String at) {
        check(node.isObject(), at, "not an object (a label selector)");
        Map<String, String> matchLabels = labels(node.get("matchLabels"), at + ".matchLabels");
        List<Selector.Requirement> requirements = new ArrayList<>();
        JsonNode expressions = node.get("matchExpressions");
        if (present(expressions)) {
            check(expressions.isArray(), at + ".matchExpressions", "not a list");
            check(expressions.size() <= MAX_EXPRESSIONS, at + ".matchExpressions", "more than " + MAX_EXPRESSIONS + " expressions");
            for (int i = 0; i < expressions.size(); i++) {
                JsonNode expression = expressions.get(i);
                String exprAt = at + ".matchExpressions[" + i + "]";
                check(expression.isObject(), exprAt, "not an object");
                JsonNode keyNode = expression.get("key");
                check(keyNode != null, exprAt + ".key", "missing");
                String key = text(keyNode, exprAt + ".key");
                checkLabelKey(key, exprAt + ".key");
                JsonNode operatorNode = expression.get("operator");
                check(operatorNode != null, exprAt + ".operator", "missing");
                String operatorText = text(operatorNode, exprAt + ".operator");
                Selector.Operator operator;
                try {
                    operator = Selector.Operator.valueOf(operatorText);
                } catch (IllegalArgumentException e) {
                    throw new Invalid(exprAt + ".operator", "'" + printable(operatorText)
                            + "' is not an operator (In, NotIn, Exists or DoesNotExist)");
                }
                Set<String> values = new HashSet<>();
                JsonNode valuesNode = expression.get("values");
                if (present(valuesNode)) {
                    check(valuesNode.isArray(), exprAt + ".values", "not a list");
                    check(valuesNode.size() <= MAX_VALUES, exprAt + ".values", "more than " + MAX_VALUES + " values");
                    for (int v = 0; v < valuesNode.size(); v++) {
                        String value = text(valuesNode.get(v), exprAt + ".values[" + v + "]");
                        checkLabelValue(value, exprAt + ".values[" + v + "]");
                        values.add(value);
                    }
                }
                switch (operator) {
                    case In, NotIn -> check(!values.isEmpty(), exprAt + ".values", "must not be empty for " + operator);
                    case Exists, DoesNotExist -> check(values.isEmpty(), exprAt + ".values", "must be empty for " + operator);
                }
                requirements.add(new Selector.Requirement(key, operator, values));
            }
        }
        return new Selector(matchLabels, requirements);
    }

    private static Map<String, String> labels(JsonNode node, String at) {
        if (!present(node)) {
            return Map.of();
        }
        check(node.isObject(), at, "not a mapping of label names to values");
        check(node.size() <= MAX_LABELS, at, "more than " + MAX_LABELS + " labels");
        Map<String, String> labels = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> label : node.properties()) {
            String labelAt = at + "." + printable(label.getKey());
            checkLabelKey(label.getKey(), labelAt);
            // YAML reads `app: 1` or `on: true` as a number or boolean; Kubernetes wants strings.
            String value = text(label.getValue(), labelAt);
            checkLabelValue(value, labelAt);
            labels.put(label.getKey(), value);
        }
        return labels;
    }

    private static void checkLabelKey(String key, String at) {
        int slash = key.indexOf('/');
        String prefix = slash < 0 ? null : key.substring(0, slash);
        String name = slash < 0 ? key : key.substring(slash + 1);
        boolean ok = name.length() <= 63 && LABEL_NAME.matcher(name).matches()
                && (prefix == null || prefix.length() <= 253 && DNS_SUBDOMAIN.matcher(prefix).matches());
        check(ok, at, "'" + printable(key) + "' is not a label key ([prefix/]name, name at most 63 letters, digits, '-', '_', '.')");
    }

    private static void checkLabelValue(String value, String at) {
        check(value.isEmpty() || value.length() <= 63 && LABEL_NAME.matcher(value).matches(), at,
                "'" + printable(value) + "' is not a label value (at most 63 letters, digits, '-', '_', '.')");
    }

    private PodMetadata pod(JsonNode node, String prefix, String namespace) {
        String name = name(node, prefix, DNS_SUBDOMAIN, 253);
        Map<String, String> labels = labels(node.path("metadata").get("labels"), prefix + "metadata.labels");
        List<NamedPort> ports = new ArrayList<>();
        JsonNode containers = node.path("spec").get("containers");
        if (present(containers)) {
            String at = prefix + "spec.containers";
            check(containers.isArray(), at, "not a list");
            check(containers.size() <= MAX_CONTAINERS, at, "more than " + MAX_CONTAINERS + " containers");
            for (int c = 0; c < containers.size(); c++) {
                JsonNode container = containers.get(c);
                check(container.isObject(), at + "[" + c + "]", "not an object");
                JsonNode containerPorts = container.get("ports");
                if (!present(containerPorts)) {
                    continue;
                }
                String portsAt = at + "[" + c + "].ports";
                check(containerPorts.isArray(), portsAt, "not a list");
                check(containerPorts.size() <= MAX_PORTS, portsAt, "more than " + MAX_PORTS + " ports");
                for (int p = 0; p < containerPorts.size(); p++) {
                    JsonNode port = containerPorts.get(p);
                    String portAt = portsAt + "[" + p + "]";
                    check(port.isObject(), portAt, "not an object");
                    JsonNode containerPort = port.get("containerPort");
                    check(containerPort != null, portAt + ".containerPort", "missing");
                    int number = portNumber(containerPort, portAt + ".containerPort");
                    int protocol = protocol(port.get("protocol"), portAt + ".protocol");
                    JsonNode portName = port.get("name");
                    if (present(portName)) {
                        String text = text(portName, portAt + ".name");
                        checkPortName(text, portAt + ".name");
                        ports.add(new NamedPort(text, PolicyPort.protocolName(protocol), number));
                    }
                }
            }
        }
        return new PodMetadata(namespace, name, labels, ports);
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }

    private static String text(JsonNode node, String at) {
        check(node != null && node.isTextual(), at, node == null ? "missing" : "not a string but " + describe(node));
        return node.textValue();
    }

    private static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> "a mapping";
            case ARRAY -> "a list";
            case NUMBER -> "a number (quote it)";
            case BOOLEAN -> "a boolean (quote it)";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase();
        };
    }

    private static void check(boolean ok, String at, String message) {
        if (!ok) {
            throw new Invalid(at, message);
        }
    }

    /** Quotes hostile text in messages without letting it forge lines or grow unbounded. */
    static String printable(String value) {
        StringBuilder out = new StringBuilder();
        value.codePoints().limit(80).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return value.codePointCount(0, value.length()) > 80 ? out + "..." : out.toString();
    }
}
