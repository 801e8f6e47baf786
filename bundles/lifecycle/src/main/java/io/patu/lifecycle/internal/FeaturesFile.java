package io.patu.lifecycle.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.SortedSet;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.json.JsonTrees;
import io.patu.kernel.fs.DurableFiles;

/**
 * {@code <stateDir>/features.json}: the features an operator disabled, as {@code {"disabled": ["sockmap"]}}.
 * A contract with the launcher, which installs the bundles of these features without starting them, so a
 * disabled feature stays disabled across agent restarts. Names are sorted and unique; other members are
 * ignored; a missing file means nothing is disabled. Written durably (write, fsync, rename).
 */
final class FeaturesFile {
    static final String NAME = "features.json";
    private final Path file;

    FeaturesFile(Path stateDir) {
        this.file = stateDir.resolve(NAME);
    }

    Path path() {
        return file;
    }

    SortedSet<String> readDisabled() throws IOException {
        if (!Files.exists(file)) {
            return new TreeSet<>();
        }
        JsonNode list;
        try {
            JsonNode root = JsonTrees.read(Files.readAllBytes(file));
            if (root == null || !root.isObject()) {
                throw new IOException("not a JSON object");
            }
            list = root.path("disabled");
            if (!list.isMissingNode() && !list.isNull() && !(list.isArray() && allScalars(list))) {
                throw new IOException("\"disabled\" is not a list of strings");
            }
        } catch (IOException e) {
            throw new IOException("features file " + file + " is not readable JSON (" + e.getMessage()
                    + "); fix it to the form {\"disabled\": [\"sockmap\"]} or delete it to enable every feature", e);
        }
        SortedSet<String> disabled = new TreeSet<>();
        for (JsonNode name : list) {
            if (!name.isNull()) {
                disabled.add(name.asText());
            }
        }
        return disabled;
    }

    void writeDisabled(Collection<String> disabled) throws IOException {
        ObjectNode root = JsonTrees.object();
        ArrayNode names = root.putArray("disabled");
        new TreeSet<>(disabled).forEach(names::add);
        DurableFiles.writeAtomically(file, JsonTrees.write(root, true));
    }

    /** Names are strings; like the databind mapping this replaced, other scalars are taken as text. */
    private static boolean allScalars(JsonNode list) {
        for (JsonNode element : list) {
            if (!element.isValueNode()) {
                return false;
            }
        }
        return true;
    }
}
