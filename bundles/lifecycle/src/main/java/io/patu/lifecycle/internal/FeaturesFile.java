package io.patu.lifecycle.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.kernel.fs.DurableFiles;

/**
 * {@code <stateDir>/features.json}: the features an operator disabled, as {@code {"disabled": ["sockmap"]}}.
 * A contract with the launcher, which installs the bundles of these features without starting them, so a
 * disabled feature stays disabled across agent restarts. Names are sorted and unique; other members are
 * ignored; a missing file means nothing is disabled. Written durably (write, fsync, rename).
 */
final class FeaturesFile {
    static final String NAME = "features.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;

    record FileFormat(List<String> disabled) {
    }

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
        FileFormat format;
        try {
            format = JSON.readValue(file.toFile(), FileFormat.class);
        } catch (IOException e) {
            throw new IOException("features file " + file + " is not readable JSON (" + e.getMessage()
                    + "); fix it to the form {\"disabled\": [\"sockmap\"]} or delete it to enable every feature", e);
        }
        SortedSet<String> disabled = new TreeSet<>();
        if (format.disabled() != null) {
            format.disabled().stream().filter(Objects::nonNull).forEach(disabled::add);
        }
        return disabled;
    }

    void writeDisabled(Collection<String> disabled) throws IOException {
        DurableFiles.writeAtomically(file, JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(new FileFormat(List.copyOf(new TreeSet<>(disabled)))));
    }
}
