package io.patu.config.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.json.JsonTrees;

/**
 * The agent's configuration file, in the resource format of the OSGi Configurator (spec chapter 150):
 * a JSON object whose keys are PIDs and whose values are the properties of that PID; keys starting with
 * ':configurator:' are directives. Only scalar and array-of-scalar values are meaningful for Patu.
 */
final class ConfigurationFile {
    private ConfigurationFile() {
    }

    static Map<String, Hashtable<String, Object>> read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JsonTrees.read(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException("configuration " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException("configuration " + file + " must be a JSON object of PID -> properties");
        }
        Map<String, Hashtable<String, Object>> pids = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> pid = it.next();
            if (pid.getKey().startsWith(":configurator:")) {
                continue;
            }
            if (!pid.getValue().isObject()) {
                throw new IOException("configuration " + file + ": \"" + pid.getKey() + "\" must map to an object of properties");
            }
            Hashtable<String, Object> properties = new Hashtable<>();
            for (Iterator<Map.Entry<String, JsonNode>> p = pid.getValue().fields(); p.hasNext(); ) {
                Map.Entry<String, JsonNode> property = p.next();
                properties.put(property.getKey(), value(file, pid.getKey(), property.getKey(), property.getValue()));
            }
            pids.put(pid.getKey(), properties);
        }
        return pids;
    }

    private static Object value(Path file, String pid, String key, JsonNode node) throws IOException {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToInt() ? (Object) node.asInt() : (Object) node.asLong();
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        if (node.isArray()) {
            String[] values = new String[node.size()];
            for (int i = 0; i < values.length; i++) {
                if (!node.get(i).isValueNode()) {
                    throw new IOException("configuration " + file + ": " + pid + "/" + key + " may only hold scalars");
                }
                values[i] = node.get(i).asText();
            }
            return values;
        }
        throw new IOException("configuration " + file + ": " + pid + "/" + key + " must be a string, number, boolean or array");
    }
}
