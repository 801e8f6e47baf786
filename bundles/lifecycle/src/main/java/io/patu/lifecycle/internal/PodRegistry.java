package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodIdentity;
import io.patu.api.PortMapping;
import io.patu.api.json.JsonTrees;
import io.patu.kernel.fs.DurableFiles;

/**
 * The pods this agent has networked, kept on disk so that a restarted agent (or a feature bundle started
 * later) can be replayed the pods that exist. Not thread-safe: the lifecycle serialises all calls.
 */
final class PodRegistry {
    private static final int FORMAT_VERSION = 1;

    private final Path file;
    private final Map<PodId, Pod> pods = new LinkedHashMap<>();

    /*
     * The file: {"version": 1, "pods": [{"containerId", "ifName", "netns", "hostVeth", "hostIfIndex", "mac",
     * "addresses": [{"address", "prefixLength", "gateway"}], "identity": {"namespace", "name", "uid",
     * "infraContainerId"}, "portMappings": [{"hostIP", "hostPort", "containerPort", "protocol"}]}]}. Members it does
     * not know are ignored; "identity" is absent for a pod whose runtime sent no CNI_ARGS identity and
     * "portMappings" for a pod that publishes no port (and in files written before they existed), so the format
     * version stays 1.
     */

    PodRegistry(Path stateDir) throws IOException {
        this.file = stateDir.resolve("pods.json");
        if (Files.exists(file)) {
            JsonNode root;
            try {
                root = JsonTrees.read(Files.readAllBytes(file));
            } catch (IOException e) {
                throw new IOException("pod registry " + file + " is not readable JSON: " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new IOException("pod registry " + file + " is not readable JSON: not an object");
            }
            int version = root.path("version").asInt();
            if (version != FORMAT_VERSION) {
                throw new IOException("pod registry " + file + " has format version " + version
                        + ", this agent reads version " + FORMAT_VERSION);
            }
            for (JsonNode entry : root.path("pods")) {
                Pod pod = fromEntry(entry);
                pods.put(pod.id(), pod);
            }
        }
    }

    Optional<Pod> get(PodId id) {
        return Optional.ofNullable(pods.get(id));
    }

    List<Pod> all() {
        return List.copyOf(pods.values());
    }

    void put(Pod pod) throws IOException {
        Pod previous = pods.put(pod.id(), pod);
        try {
            save();
        } catch (IOException e) {
            if (previous == null) {
                pods.remove(pod.id());
            } else {
                pods.put(pod.id(), previous);
            }
            throw e;
        }
    }

    void remove(PodId id) throws IOException {
        Pod previous = pods.remove(id);
        if (previous == null) {
            return;
        }
        try {
            save();
        } catch (IOException e) {
            pods.put(id, previous);
            throw e;
        }
    }

    private void save() throws IOException {
        ObjectNode root = JsonTrees.object();
        root.put("version", FORMAT_VERSION);
        ArrayNode entries = root.putArray("pods");
        for (Pod pod : pods.values()) {
            ObjectNode entry = entries.addObject();
            entry.put("containerId", pod.id().containerId()).put("ifName", pod.id().ifName()).put("netns", pod.netns())
                    .put("hostVeth", pod.hostVeth()).put("hostIfIndex", pod.hostIfIndex()).put("mac", pod.mac());
            ArrayNode addresses = entry.putArray("addresses");
            for (PodAddress a : pod.addresses()) {
                addresses.addObject().put("address", a.address().getHostAddress()).put("prefixLength", a.prefixLength())
                        .put("gateway", a.gateway().getHostAddress());
            }
            PodIdentity identity = pod.identity();
            if (!identity.equals(PodIdentity.NONE)) {
                entry.putObject("identity").put("namespace", identity.namespace()).put("name", identity.name())
                        .put("uid", identity.uid()).put("infraContainerId", identity.infraContainerId());
            }
            if (!pod.portMappings().isEmpty()) {
                ArrayNode ports = entry.putArray("portMappings");
                for (PortMapping p : pod.portMappings()) {
                    ports.addObject().put("hostIP", p.host().map(InetAddress::getHostAddress).orElse(""))
                            .put("hostPort", p.hostPort()).put("containerPort", p.containerPort()).put("protocol", p.protocol());
                }
            }
        }
        DurableFiles.writeAtomically(file, JsonTrees.write(root, true));
    }

    private static Pod fromEntry(JsonNode entry) throws UnknownHostException {
        List<PodAddress> addresses = new ArrayList<>();
        for (JsonNode a : entry.path("addresses")) {
            // The file is ours and holds literals only, so no name is ever resolved here.
            addresses.add(new PodAddress(InetAddress.ofLiteral(text(a, "address")), a.path("prefixLength").asInt(),
                    InetAddress.ofLiteral(text(a, "gateway"))));
        }
        List<PortMapping> ports = new ArrayList<>();
        for (JsonNode p : entry.path("portMappings")) {
            String host = p.path("hostIP").asText("");
            ports.add(new PortMapping(host.isEmpty() ? null : InetAddress.ofLiteral(host), p.path("hostPort").asInt(),
                    p.path("containerPort").asInt(), p.path("protocol").asText()));
        }
        JsonNode identity = entry.path("identity");
        return new Pod(new PodId(text(entry, "containerId"), text(entry, "ifName")), text(entry, "netns"),
                text(entry, "hostVeth"), entry.path("hostIfIndex").asInt(), text(entry, "mac"), addresses,
                new PodIdentity(identity.path("namespace").asText(""), identity.path("name").asText(""),
                        identity.path("uid").asText(""), identity.path("infraContainerId").asText("")), ports);
    }

    /** A string member; null when absent or null, as the record mapping this replaced read it. */
    private static String text(JsonNode object, String name) {
        JsonNode value = object.get(name);
        return value == null || value.isNull() ? null : value.asText();
    }
}
