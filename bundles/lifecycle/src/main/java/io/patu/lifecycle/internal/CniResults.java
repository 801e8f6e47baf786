package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.Pod;
import io.patu.api.PodAddress;

/** The JSON documents the CNI spec defines as plugin output. */
final class CniResults {
    private CniResults() {
    }

    /** ADD's result: host veth and pod interface, the pod's addresses and its default routes. */
    static byte[] addResult(String cniVersion, Pod pod, String hostVethMac) {
        ObjectNode result = NetworkConfig.JSON.createObjectNode();
        result.put("cniVersion", cniVersion);
        ArrayNode interfaces = result.putArray("interfaces");
        interfaces.addObject().put("name", pod.hostVeth()).put("mac", hostVethMac);
        interfaces.addObject().put("name", pod.id().ifName()).put("mac", pod.mac()).put("sandbox", pod.netns());
        ArrayNode ips = result.putArray("ips");
        ArrayNode routes = result.putArray("routes");
        for (PodAddress address : pod.addresses()) {
            ips.addObject().put("address", address.cidr()).put("gateway", address.gateway().getHostAddress())
                    .put("interface", 1);
            routes.addObject().put("dst", address.isIpv4() ? "0.0.0.0/0" : "::/0")
                    .put("gw", address.gateway().getHostAddress());
        }
        result.putObject("dns");
        return bytes(result);
    }

    static byte[] versionResult(String cniVersion) {
        ObjectNode result = NetworkConfig.JSON.createObjectNode();
        result.put("cniVersion", cniVersion);
        ArrayNode supported = result.putArray("supportedVersions");
        NetworkConfig.SUPPORTED_VERSIONS.forEach(supported::add);
        return bytes(result);
    }

    static byte[] error(String cniVersion, int code, String message, String details) {
        ObjectNode error = NetworkConfig.JSON.createObjectNode();
        error.put("cniVersion", cniVersion);
        error.put("code", code);
        error.put("msg", message);
        if (details != null && !details.isEmpty()) {
            error.put("details", details);
        }
        return bytes(error);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return NetworkConfig.JSON.writeValueAsString(node).concat("\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree built in memory always serialises", e);
        }
    }
}
