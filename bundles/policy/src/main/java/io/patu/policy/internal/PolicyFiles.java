package io.patu.policy.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.patu.api.NamespaceMetadata;
import io.patu.api.PodMetadata;
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

    /**
     * The objects of a document (or of the few documents) between two {@code ---} lines of a YAML file, and
     * how many documents that text held: kept per file so that reading the file again parses only the
     * documents whose text changed.
     */
    record Chunk(FileContent content, int documents) {
    }

    /**
     * {@link #parse(byte[], String, boolean)}, reusing the documents of the file's previous version: a YAML
     * file is cut at its document markers ({@code ---} at the start of a line, which YAML forbids inside any
     * content), each piece whose text (its SHA-256 digest) is in {@code previous} is taken from there, the others are parsed. The
     * result is the same as parsing the whole file (a piece that fails makes the whole file parse again, for
     * the whole file's error); valid pieces go into {@code next} for the next read. JSON, and YAML that uses
     * directives ({@code %}) or document end markers ({@code ...}), are parsed whole.
     */
    static FileContent parse(byte[] bytes, String displayName, boolean json, Map<String, Chunk> previous,
                             Map<String, Chunk> next) throws IOException {
        List<String> pieces = json ? null : documentTexts(bytes);
        if (pieces == null) {
            return parse(bytes, displayName, json);
        }
        List<NetworkPolicy> policies = new ArrayList<>();
        List<NamespaceMetadata> namespaces = new ArrayList<>();
        List<PodMetadata> pods = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        Map<String, Chunk> reused = new HashMap<>();
        int documents = 0;
        for (String piece : pieces) {
            // Keyed by the digest of the text, not the text: the agent keeps these while the file is in force.
            byte[] pieceBytes = piece.getBytes(StandardCharsets.UTF_8);
            String key = digest(pieceBytes);
            Chunk chunk = previous.get(key);
            if (chunk == null) {
                chunk = reused.get(key);
            }
            if (chunk == null) {
                List<JsonNode> read;
                try {
                    read = JsonTrees.readAll(Yaml.FACTORY, pieceBytes, MAX_DOCUMENTS);
                } catch (IOException | RuntimeException | StackOverflowError e) {
                    return parse(bytes, displayName, false); // fails with the whole file's message
                }
                chunk = new Chunk(KubernetesObjects.read(displayName, read, documents), read.size());
            }
            documents += chunk.documents();
            if (documents > MAX_DOCUMENTS) {
                return parse(bytes, displayName, false); // fails: too many documents
            }
            if (chunk.content().problems().isEmpty()) {
                // Without problems its objects do not depend on where in the file it is.
                reused.put(key, chunk);
            }
            FileContent content = chunk.content();
            policies.addAll(content.policies());
            namespaces.addAll(content.namespaces());
            pods.addAll(content.pods());
            problems.addAll(content.problems());
            rejected.addAll(content.rejected());
        }
        next.putAll(reused);
        return new FileContent(policies, namespaces, pods, problems, rejected);
    }

    /**
     * The text of a YAML file cut before every document start marker line, or null when the file is not
     * UTF-8, holds a NUL, a directive or a document end marker (then it is parsed whole).
     */
    static List<String> documentTexts(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (text.indexOf('\0') >= 0) {
            return null; // UTF-16 or UTF-32 without a BOM, or not text: the parser decides
        }
        List<String> pieces = new ArrayList<>();
        int start = 0;
        for (int line = 0; line < text.length(); ) {
            int end = text.indexOf('\n', line);
            end = end < 0 ? text.length() : end + 1;
            if (marker(text, line, "...") || text.startsWith("%", line)) {
                return null;
            }
            if (line > start && marker(text, line, "---")) {
                pieces.add(text.substring(start, line));
                start = line;
                if (pieces.size() > MAX_DOCUMENTS + 1) {
                    return null; // the whole parse reports the limit
                }
            }
            line = end;
        }
        pieces.add(text.substring(start));
        return pieces;
    }

    /** Whether the line at {@code at} is {@code marker} alone or followed by white space. */
    private static boolean marker(String text, int at, String marker) {
        if (!text.startsWith(marker, at)) {
            return false;
        }
        int after = at + marker.length();
        return after == text.length() || " \t\r\n".indexOf(text.charAt(after)) >= 0;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed";
        }
        int newline = message.indexOf('\n');
        return KubernetesObjects.printable(newline < 0 ? message : message.substring(0, newline));
    }
}
