package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PortMapping;
import io.patu.api.json.JsonTrees;

/**
 * The network configuration a runtime passes on stdin, reduced to what this agent reads. Addressing
 * comes from the agent's own configuration (Configuration Admin) unless the configuration carries an
 * {@code ipam} object; {@link #raw()} keeps the whole document for the verbs that read more of it.
 *
 * @param cniVersion the version this call speaks: the configuration's {@code cniVersion}, or, when it
 *                   carries a {@code cniVersions} list (spec 1.1.0), the highest version in that list that
 *                   this plugin also speaks
 */
record NetworkConfig(String cniVersion, String name, String type, JsonNode raw) {
    /** The versions this plugin speaks, oldest first; results are shaped for the request's version. */
    static final List<String> SUPPORTED_VERSIONS = List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
    static final String DEFAULT_VERSION = "1.0.0";

    private static final Pattern NETWORK_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");
    /** Hostile input must not make parsing expensive. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(65536).build())
            .build();

    /** The one JSON document in {@code stdin} ("{...} garbage" is not one), or null when there is none. */
    static JsonNode readJson(byte[] stdin) throws IOException {
        return JsonTrees.read(JSON, stdin, true);
    }

    /** The version to answer errors in: the request's if this plugin speaks it, else the default. */
    String answerVersion() {
        return SUPPORTED_VERSIONS.contains(cniVersion) ? cniVersion : DEFAULT_VERSION;
    }

    /**
     * The version to answer an error in, read leniently before the request is validated, so that even a
     * refusal speaks the version the caller negotiated.
     */
    static String errorVersion(byte[] stdin) {
        try {
            JsonNode root = readJson(stdin);
            if (root == null || !root.isObject()) {
                return DEFAULT_VERSION;
            }
            List<String> offered = versions(root);
            String version = offered != null ? negotiate(offered, null) : text(root, "cniVersion");
            return SUPPORTED_VERSIONS.contains(version) ? version : DEFAULT_VERSION;
        } catch (IOException | RuntimeException e) {
            return DEFAULT_VERSION;
        }
    }

    static NetworkConfig parse(byte[] stdin, boolean versionOnly) {
        JsonNode root;
        try {
            root = readJson(stdin);
        } catch (JsonProcessingException e) {
            throw new PatuException(CniError.DECODE_FAILURE, "the network configuration on stdin is not valid JSON",
                    CniRequest.printable(String.valueOf(e.getOriginalMessage())), null);
        } catch (IOException e) {
            throw new PatuException(CniError.DECODE_FAILURE, "the network configuration on stdin cannot be read",
                    CniRequest.printable(e.toString()), null);
        }
        if (root == null || !root.isObject()) {
            throw new PatuException(CniError.DECODE_FAILURE, "the network configuration on stdin must be a JSON object");
        }
        String version = text(root, "cniVersion");
        if (versionOnly) {
            return new NetworkConfig(version == null ? DEFAULT_VERSION : version, "", "", root);
        }
        List<String> offered = versions(root);
        if (offered != null) {
            version = negotiate(offered, version);
        }
        if (version == null) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "the network configuration has no \"cniVersion\"");
        }
        if (!SUPPORTED_VERSIONS.contains(version)) {
            throw new PatuException(CniError.INCOMPATIBLE_VERSION, "cniVersion \"" + CniRequest.printable(version)
                    + "\" is not supported; this plugin speaks " + String.join(", ", SUPPORTED_VERSIONS));
        }
        String name = text(root, "name");
        if (name == null || !NETWORK_NAME.matcher(name).matches()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG,
                    "the network configuration needs a \"name\" of letters, digits, '_', '.' and '-'");
        }
        String type = text(root, "type");
        if (type == null || type.isEmpty()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "the network configuration has no \"type\"");
        }
        return new NetworkConfig(version, name, type, root);
    }

    /** The {@code cniVersions} list (spec 1.1.0), or null when the configuration has none. */
    private static List<String> versions(JsonNode root) {
        JsonNode node = root.get("cniVersions");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.isEmpty()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"cniVersions\" must be a non-empty list of strings");
        }
        List<String> versions = new ArrayList<>();
        for (JsonNode element : node) {
            if (!element.isTextual()) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"cniVersions\" must be a non-empty list of strings");
            }
            versions.add(element.asText());
        }
        return versions;
    }

    /**
     * Spec 1.1.0 version selection: of the versions the configuration lists, the highest one this plugin
     * speaks. {@code cniVersion}, if present too, is what older runtimes use; the list supersedes it.
     */
    static String negotiate(List<String> offered, String cniVersion) {
        String best = null;
        for (String candidate : offered) {
            if (SUPPORTED_VERSIONS.contains(candidate)
                    && (best == null || SUPPORTED_VERSIONS.indexOf(candidate) > SUPPORTED_VERSIONS.indexOf(best))) {
                best = candidate;
            }
        }
        if (best == null) {
            StringBuilder listed = new StringBuilder();
            offered.stream().limit(8).forEach(v -> listed.append(listed.isEmpty() ? "" : ", ").append(CniRequest.printable(v)));
            throw new PatuException(CniError.INCOMPATIBLE_VERSION, "none of the cniVersions [" + listed
                    + (offered.size() > 8 ? ", ..." : "") + "] is spoken by this plugin, which speaks "
                    + String.join(", ", SUPPORTED_VERSIONS));
        }
        return best;
    }

    /** True when this call's version is at least {@code version} (both among {@link #SUPPORTED_VERSIONS}). */
    boolean atLeast(String version) {
        return SUPPORTED_VERSIONS.indexOf(cniVersion) >= SUPPORTED_VERSIONS.indexOf(version);
    }

    /** Results before 1.0.0 carry {@code ips[].version}. */
    boolean ipsCarryVersion() {
        return !atLeast("1.0.0");
    }

    /** The {@code prevResult} a chained call carries, or null; must be an object when present. */
    JsonNode prevResult() {
        JsonNode node = raw.get("prevResult");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"prevResult\" must be a JSON object");
        }
        return node;
    }

    /** Raw JSON text of the {@code ipam} object, or null when the configuration has none. */
    String ipamJson() {
        JsonNode node = raw.get("ipam");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"ipam\" must be a JSON object");
        }
        // A configuration naming only an ipam type (e.g. {"type":"patu"}) asks for nothing of its own.
        if (node.size() == 0 || node.size() == 1 && node.has("type")) {
            return null;
        }
        return JsonTrees.toText(node);
    }

    /** The lowest and highest MTU the conflist's {@code mtu} may ask for (IPv4's minimum; the largest a link takes). */
    static final int MIN_MTU = 68;
    static final int MAX_MTU = 65535;

    /**
     * The conflist's {@code mtu}: this attachment's veth MTU instead of the agent's (docs/mtu.md); 0 when
     * the configuration gives none. Anything but an integer in {@value #MIN_MTU}..{@value #MAX_MTU} is
     * error 7 naming the key.
     */
    int mtu() {
        JsonNode node = raw.get("mtu");
        if (node == null || node.isNull()) {
            return 0;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < MIN_MTU || node.intValue() > MAX_MTU) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"mtu\" must be an integer from " + MIN_MTU + " to "
                    + MAX_MTU + ", not " + CniRequest.printable(JsonTrees.toText(node)));
        }
        return node.intValue();
    }

    /**
     * Addresses the runtime asks for: the {@code ips} capability ({@code runtimeConfig.ips}), or else the
     * {@code args.cni.ips} convention. Empty when it asks for none.
     */
    List<String> requestedIps() {
        JsonNode node = raw.path("runtimeConfig").path("ips");
        String where = "runtimeConfig.ips";
        if (node.isMissingNode() || node.isNull()) {
            node = raw.path("args").path("cni").path("ips");
            where = "args.cni.ips";
        }
        if (node.isMissingNode() || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + "\" must be a list of addresses");
        }
        List<String> ips = new ArrayList<>();
        for (JsonNode element : node) {
            if (!element.isTextual()) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + "\" must be a list of addresses");
            }
            ips.add(element.asText());
        }
        return ips;
    }

    /**
     * Ports the runtime publishes ({@code portMappings} capability, {@code runtimeConfig.portMappings}): objects
     * of {@code hostPort}, {@code containerPort}, {@code protocol} ({@code tcp} when absent) and {@code hostIP}
     * (every node address when absent or empty). Anything else, or the same host address, port and protocol
     * twice, is error 7 naming the entry. Empty when none is asked for.
     */
    List<PortMapping> portMappings() {
        JsonNode node = raw.path("runtimeConfig").path("portMappings");
        if (node.isMissingNode() || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"runtimeConfig.portMappings\" must be a list");
        }
        List<PortMapping> mappings = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String where = "runtimeConfig.portMappings[" + i + "]";
            PortMapping mapping = portMapping(where, node.get(i));
            for (PortMapping earlier : mappings) {
                if (earlier.hostPort() == mapping.hostPort() && earlier.protocol().equals(mapping.protocol())
                        && java.util.Objects.equals(earlier.hostIp(), mapping.hostIp())) {
                    throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + "\" publishes " + mapping
                            + ", and host port " + mapping.hostPort() + "/" + mapping.protocol() + " is already " + earlier);
                }
            }
            mappings.add(mapping);
        }
        return mappings;
    }

    private static PortMapping portMapping(String where, JsonNode entry) {
        if (!entry.isObject()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + "\" must be an object");
        }
        int hostPort = port(where, entry, "hostPort");
        int containerPort = port(where, entry, "containerPort");
        JsonNode protocol = entry.get("protocol");
        String proto = "tcp";
        if (protocol != null && !protocol.isNull()) {
            if (!protocol.isTextual()) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + ".protocol\" must be a string");
            }
            proto = protocol.asText().isEmpty() ? "tcp" : protocol.asText().toLowerCase(java.util.Locale.ROOT);
            if (!proto.equals(PortMapping.TCP) && !proto.equals(PortMapping.UDP)) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + ".protocol\" is \""
                        + CniRequest.printable(protocol.asText()) + "\"; Patu publishes tcp and udp ports");
            }
        }
        JsonNode hostIp = entry.get("hostIP");
        InetAddress host = null;
        if (hostIp != null && !hostIp.isNull()) {
            if (!hostIp.isTextual()) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + ".hostIP\" must be a string");
            }
            if (!hostIp.asText().isEmpty()) {
                try {
                    host = InetAddress.ofLiteral(hostIp.asText());
                } catch (IllegalArgumentException e) {
                    throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + ".hostIP\" is \""
                            + CniRequest.printable(hostIp.asText()) + "\", not an IP address");
                }
            }
        }
        return new PortMapping(host, hostPort, containerPort, proto);
    }

    private static int port(String where, JsonNode entry, String field) {
        JsonNode value = entry.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 1
                || value.intValue() > 65535) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + where + "." + field
                    + "\" must be an integer from 1 to 65535, not " + (value == null ? "absent" : CniRequest.printable(JsonTrees.toText(value))));
        }
        return value.intValue();
    }

    private static String text(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + field + "\" must be a string");
        }
        return node.asText();
    }
}
