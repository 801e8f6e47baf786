package io.patu.policy.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The conformance data under {@code src/test/resources/conformance} (see its README): the world, the cases,
 * their steps and expected matrices. Shared by the engine's conformance test and the datapath's end-to-end
 * run on real pods, which give the pods' addresses.
 */
public final class ConformanceSuite {
    public static final List<String> PODS = List.of("x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(host|cidr) ([xyz]/[abc])(?: (\\d+))?}}");
    private static final Pattern OBJECT_KEY = Pattern.compile("(?m)^kind: (Pod|Namespace)\\nmetadata:\\n  name: (\\S+)(?:\\n  namespace: (\\S+))?");

    /** One probe block: PORT/PROTO and whether each ordered pair (source, destination) may connect. */
    public record Probe(int port, String protocol, Map<String, Map<String, Boolean>> allowed) {
    }

    /** One step: the case's file for this step and what must hold after it is applied. */
    public record Step(int number, String policyYaml, List<Probe> probes) {
    }

    public record Case(String name, String upstreamTitle, List<Step> steps) {
    }

    private final Path root;

    public ConformanceSuite(Path root) {
        this.root = root;
    }

    /** The suite in this module's test resources, wherever the build runs from. */
    public static ConformanceSuite fromTestResources() {
        for (Path candidate : List.of(Path.of("src/test/resources/conformance"), Path.of("bundles/policy/src/test/resources/conformance"),
                Path.of("../../bundles/policy/src/test/resources/conformance"))) {
            if (Files.isDirectory(candidate)) {
                return new ConformanceSuite(candidate);
            }
        }
        throw new IllegalStateException("conformance data not found from " + Path.of("").toAbsolutePath());
    }

    public List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : Files.readAllLines(root.resolve("cases.txt"))) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            List<Step> steps = new ArrayList<>();
            for (int i = 1; i <= Integer.parseInt(fields[1]); i++) {
                Path dir = root.resolve(fields[0]);
                steps.add(new Step(i, Files.readString(dir.resolve("step-" + i + ".yaml")), probes(dir.resolve("step-" + i + ".expect"))));
            }
            cases.add(new Case(fields[0], fields[2], steps));
        }
        return cases;
    }

    public String worldYaml() {
        try {
            return Files.readString(root.resolve("world.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The files of the policy directory for a step: {@code case.yaml} (placeholders resolved to the pods'
     * addresses) and {@code world.yaml} without the Pod and Namespace objects that the step redefines (a
     * relabelling).
     */
    public Map<String, String> directoryFiles(Step step, Function<String, InetAddress> addressOf) {
        String policy = resolve(step.policyYaml(), addressOf);
        List<String> redefined = new ArrayList<>();
        Matcher keys = OBJECT_KEY.matcher(policy);
        while (keys.find()) {
            redefined.add(keys.group(1) + " " + keys.group(2) + " " + keys.group(3));
        }
        StringBuilder world = new StringBuilder();
        for (String document : worldYaml().split("(?m)^---\\n")) {
            Matcher key = OBJECT_KEY.matcher(document);
            if (!key.find() || redefined.contains(key.group(1) + " " + key.group(2) + " " + key.group(3))) {
                continue;
            }
            world.append("---\n").append(document);
        }
        Map<String, String> files = new LinkedHashMap<>();
        files.put("case.yaml", policy);
        files.put("world.yaml", world.toString());
        return files;
    }

    /** {@code {{host x/b}}} is x/b's address as a host prefix, {@code {{cidr x/a 4}}} the /4 network holding x/a. */
    static String resolve(String yaml, Function<String, InetAddress> addressOf) {
        Matcher m = PLACEHOLDER.matcher(yaml);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            InetAddress address = addressOf.apply(m.group(2));
            int length = m.group(1).equals("host") ? address.getAddress().length * 8 : Integer.parseInt(m.group(3));
            m.appendReplacement(out, new Cidr(address, length).toString());
        }
        return m.appendTail(out).toString();
    }

    private static List<Probe> probes(Path file) throws IOException {
        List<Probe> probes = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.matches("\\d+/(TCP|UDP|SCTP)")) {
                continue;
            }
            String[] header = lines.get(i + 1).split("\t");
            Map<String, Map<String, Boolean>> allowed = new LinkedHashMap<>();
            for (int row = 0; row < PODS.size(); row++) {
                String[] cells = lines.get(i + 2 + row).split("\t");
                Map<String, Boolean> to = new LinkedHashMap<>();
                for (int col = 1; col < header.length; col++) {
                    to.put(header[col], cells[col].equals("."));
                }
                allowed.put(cells[0], to);
            }
            String[] portProto = line.split("/");
            probes.add(new Probe(Integer.parseInt(portProto[0]), portProto[1], allowed));
            i += 1 + PODS.size();
        }
        return probes;
    }
}
