package io.patu.ota.internal;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a release is: its sequence number (strictly increasing over a device's releases, so a validly signed
 * older release is refused: no downgrade, no replay), when it stops being acceptable (a device is never
 * frozen on stale metadata), and its artifacts. The signature covers the manifest file's exact bytes, so
 * this is parsed only after the signature verified (see {@link SignedManifest}).
 */
public record ReleaseManifest(long sequence, Instant expires, List<Artifact> artifacts) {
    /** The file name of the manifest in a release directory; its signatures are in {@link #SIGNATURE_FILE}. */
    public static final String FILE = "manifest.json";
    public static final String SIGNATURE_FILE = "manifest.sig";
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public ReleaseManifest {
        if (sequence < 1) {
            throw new IllegalArgumentException("sequence must be at least 1");
        }
        if (artifacts.isEmpty()) {
            throw new IllegalArgumentException("a release names at least one artifact");
        }
        Set<String> bundles = new HashSet<>();
        Set<String> files = new HashSet<>();
        for (Artifact artifact : artifacts) {
            if (!bundles.add(artifact.bundle()) || !files.add(artifact.file())) {
                throw new IllegalArgumentException("bundle " + artifact.bundle() + " or file " + artifact.file()
                        + " appears twice in the release");
            }
        }
        artifacts = List.copyOf(artifacts);
    }

    public Artifact artifact(String bundle) {
        return artifacts.stream().filter(a -> a.bundle().equals(bundle)).findFirst().orElse(null);
    }

    byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("sequence", sequence);
        root.put("expires", expires.toString());
        ArrayNode list = root.putArray("artifacts");
        for (Artifact a : artifacts) {
            list.addObject().put("bundle", a.bundle()).put("version", a.version()).put("file", a.file())
                    .put("sha256", a.sha256()).put("size", a.size());
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ReleaseManifest parse(byte[] bytes) throws ReleaseRefusedException {
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new ReleaseRefusedException("the manifest is not a JSON object");
            }
            if (root.path("format").asInt(-1) != FORMAT) {
                throw new ReleaseRefusedException("manifest format " + root.path("format") + " is not " + FORMAT);
            }
            List<Artifact> artifacts = new ArrayList<>();
            for (JsonNode a : root.path("artifacts")) {
                artifacts.add(new Artifact(text(a, "bundle"), text(a, "version"), text(a, "file"), text(a, "sha256"),
                        a.path("size").asLong(-1)));
            }
            return new ReleaseManifest(root.path("sequence").asLong(-1), Instant.parse(text(root, "expires")), artifacts);
        } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
            throw new ReleaseRefusedException("the manifest is malformed: " + e.getMessage());
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isTextual() ? value.asText() : null;
    }
}
