package io.patu.lifecycle.internal;

import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * The network configuration a runtime passes on stdin, reduced to what this agent reads. Addressing
 * comes from the agent's own configuration (Configuration Admin), not from here.
 */
record NetworkConfig(String cniVersion, String name, String type, JsonNode raw) {
    /** The versions this plugin speaks; results are shaped for the request's version. */
    static final List<String> SUPPORTED_VERSIONS = List.of("1.0.0", "1.1.0");
    static final String DEFAULT_VERSION = "1.0.0";

    private static final Pattern NETWORK_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            // Hostile input must not make parsing expensive.
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(65536).build())
            .build());

    /** The version to answer errors in: the request's if this plugin speaks it, else the default. */
    String answerVersion() {
        return SUPPORTED_VERSIONS.contains(cniVersion) ? cniVersion : DEFAULT_VERSION;
    }

    static NetworkConfig parse(byte[] stdin, boolean versionOnly) {
        JsonNode root;
        try {
            root = JSON.readTree(stdin);
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
