package io.patu.ipam.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.api.PodId;
import io.patu.kernel.fs.DurableFiles;

/**
 * Leases on disk. Every change rewrites the whole file durably (see {@link DurableFiles}), so a crash
 * at any point leaves either the old or the new file, never a torn one. Lease files of
 * an edge device are a few KiB, so rewriting them whole is cheaper than keeping a journal.
 */
final class LeaseStore {
    static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;

    LeaseStore(Path directory) {
        this.file = directory.resolve("leases.json");
    }

    Path file() {
        return file;
    }

    /** What the file holds: the subnet it was written for, the last address given, and the leases. */
    record Snapshot(String subnet, String last, Map<PodId, InetAddress> leases) {
    }

    record LeaseEntry(String containerId, String ifName, String address) {
    }

    record FileFormat(int version, String subnet, String last, List<LeaseEntry> leases) {
    }

    Snapshot load() throws IOException {
        if (!Files.exists(file)) {
            return new Snapshot(null, null, Map.of());
        }
        FileFormat format;
        try {
            format = JSON.readValue(file.toFile(), FileFormat.class);
        } catch (IOException e) {
            throw new IOException("lease file " + file + " is not readable JSON: " + e.getMessage(), e);
        }
        if (format.version() != FORMAT_VERSION) {
            throw new IOException("lease file " + file + " has format version " + format.version()
                    + ", this agent reads version " + FORMAT_VERSION);
        }
        Map<PodId, InetAddress> leases = new LinkedHashMap<>();
        for (LeaseEntry entry : format.leases() == null ? List.<LeaseEntry>of() : format.leases()) {
            leases.put(new PodId(entry.containerId(), entry.ifName()), Subnet.parseLiteral(entry.address()));
        }
        return new Snapshot(format.subnet(), format.last(), leases);
    }

    void save(Snapshot snapshot) throws IOException {
        List<LeaseEntry> entries = new ArrayList<>();
        snapshot.leases().forEach((id, address) ->
                entries.add(new LeaseEntry(id.containerId(), id.ifName(), address.getHostAddress())));
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(new FileFormat(FORMAT_VERSION, snapshot.subnet(), snapshot.last(), entries));
        DurableFiles.writeAtomically(file, bytes);
    }
}
