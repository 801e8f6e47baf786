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

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.kernel.fs.DurableFiles;

/**
 * The pods this agent has networked, kept on disk so that a restarted agent (or a feature bundle started
 * later) can be replayed the pods that exist. Not thread-safe: the lifecycle serialises all calls.
 */
final class PodRegistry {
    private static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;
    private final Map<PodId, Pod> pods = new LinkedHashMap<>();

    record AddressEntry(String address, int prefixLength, String gateway) {
    }

    record PodEntry(String containerId, String ifName, String netns, String hostVeth, int hostIfIndex, String mac,
                    List<AddressEntry> addresses) {
    }

    record FileFormat(int version, List<PodEntry> pods) {
    }

    PodRegistry(Path stateDir) throws IOException {
        this.file = stateDir.resolve("pods.json");
        if (Files.exists(file)) {
            FileFormat format;
            try {
                format = JSON.readValue(file.toFile(), FileFormat.class);
            } catch (IOException e) {
                throw new IOException("pod registry " + file + " is not readable JSON: " + e.getMessage(), e);
            }
            if (format.version() != FORMAT_VERSION) {
                throw new IOException("pod registry " + file + " has format version " + format.version()
                        + ", this agent reads version " + FORMAT_VERSION);
            }
            for (PodEntry entry : format.pods()) {
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
        List<PodEntry> entries = new ArrayList<>();
        for (Pod pod : pods.values()) {
            List<AddressEntry> addresses = pod.addresses().stream()
                    .map(a -> new AddressEntry(a.address().getHostAddress(), a.prefixLength(), a.gateway().getHostAddress()))
                    .toList();
            entries.add(new PodEntry(pod.id().containerId(), pod.id().ifName(), pod.netns(), pod.hostVeth(),
                    pod.hostIfIndex(), pod.mac(), addresses));
        }
        DurableFiles.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(new FileFormat(FORMAT_VERSION, entries)));
    }

    private static Pod fromEntry(PodEntry entry) throws UnknownHostException {
        List<PodAddress> addresses = new ArrayList<>();
        for (AddressEntry a : entry.addresses()) {
            // The file is ours and holds literals only, so no name is ever resolved here.
            addresses.add(new PodAddress(InetAddress.ofLiteral(a.address()), a.prefixLength(),
                    InetAddress.ofLiteral(a.gateway())));
        }
        return new Pod(new PodId(entry.containerId(), entry.ifName()), entry.netns(), entry.hostVeth(),
                entry.hostIfIndex(), entry.mac(), addresses);
    }
}
