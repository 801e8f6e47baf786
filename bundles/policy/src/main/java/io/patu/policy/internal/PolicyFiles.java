package io.patu.policy.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import org.yaml.snakeyaml.LoaderOptions;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.patu.api.json.JsonTrees;

/**
 * Reads one policy file whole: {@code .yaml}/{@code .yml} (one or more documents) or {@code .json}. A file
 * that does not parse, or breaks a limit, fails as a whole ({@link IOException}), so nothing of it is applied.
 *
 * <p>YAML goes through Jackson's YAML parser (jackson-dataformat-yaml over SnakeYAML, both OSGi bundles)
 * into the same trees as JSON, so both formats share one object reader. Limits are explicit rather than
 * the libraries' defaults: file size, documents per file, nesting depth, string length. YAML aliases cannot
 * blow a file up ("billion laughs"): Jackson's parser reads an alias as the anchor's name, never as a copy of
 * the anchored tree (SnakeYAML's own alias limit is set too, for its composer).
 *
 * <p>Why Jackson's YAML module rather than SnakeYAML alone: the policy bundle reads JSON with Jackson already
 * (as every bundle does), and one tree type for both formats keeps one validating reader.
 */
final class PolicyFiles {
    /** A policy file holds tens of objects; a megabyte is thousands of them. */
    static final int MAX_FILE_BYTES = 1 << 20;
    static final int MAX_DOCUMENTS = 1000;
    /** A NetworkPolicy is about 10 levels deep (spec.ingress[].from[].podSelector.matchExpressions[].values[]). */
    static final int MAX_NESTING = 32;
    static final int MAX_STRING = 4096;
    static final int MAX_ALIASES = 16;

    private static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING).maxStringLength(MAX_STRING).maxNumberLength(32).maxNameLength(MAX_STRING)
            .maxDocumentLength(MAX_FILE_BYTES).build();
    private static final JsonFactory JSON = JsonFactory.builder().streamReadConstraints(CONSTRAINTS).build();

    /** Loaded with the first YAML file: an agent whose directory is empty or JSON only loads no YAML classes. */
    private static final class Yaml {
        static final YAMLFactory FACTORY;

        static {
            LoaderOptions options = new LoaderOptions();
            options.setCodePointLimit(MAX_FILE_BYTES);
            options.setMaxAliasesForCollections(MAX_ALIASES);
            options.setNestingDepthLimit(MAX_NESTING);
            options.setAllowDuplicateKeys(false);
            FACTORY = YAMLFactory.builder().loaderOptions(options).streamReadConstraints(CONSTRAINTS).build();
        }
    }

    private PolicyFiles() {
    }

    /** Whether the directory's watcher reads this file (by name; hidden and editor files are skipped). */
    static boolean isPolicyFile(Path file) {
        String name = file.getFileName().toString();
        if (name.startsWith(".") || name.endsWith("~")) {
            return false;
        }
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    /** The file's bytes; fails for a file over {@link #MAX_FILE_BYTES}, without reading more than that. */
    static byte[] readBytes(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES + " bytes; split it into several files");
        }
        return bytes;
    }

    static String digest(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static FileContent parse(byte[] bytes, String displayName, boolean json) throws IOException {
        List<JsonNode> documents;
        try {
            documents = JsonTrees.readAll(json ? JSON : Yaml.FACTORY, bytes, MAX_DOCUMENTS);
        } catch (IOException e) {
            throw new IOException("does not parse as " + (json ? "JSON" : "YAML") + ": " + firstLine(e.getMessage()), e);
        } catch (RuntimeException | StackOverflowError e) {
            // SnakeYAML reports some limits (aliases, code points) as its own runtime exceptions.
            throw new IOException("does not parse as " + (json ? "JSON" : "YAML") + ": " + firstLine(String.valueOf(e.getMessage())), e);
        }
        return KubernetesObjects.read(displayName, documents);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed";
        }
        int newline = message.indexOf('\n');
        return KubernetesObjects.printable(newline < 0 ? message : message.substring(0, newline));
    }
}
