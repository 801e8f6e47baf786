package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * Hostile input through the executable path: a seeded generator makes {@value #CASES} malformed or hostile
 * CNI calls (environment + stdin) and executes {@code cni/patu} for each, as a runtime would. Every answer
 * must be a CNI error of the code the spec assigns to what is wrong, with a message, and a non-zero exit;
 * the agent must still answer afterwards, and no lease, link, registry entry or local_pods key may appear.
 *
 * <p>The seed is printed; {@code -Dpatu.fuzz.seed=N} replays a run, {@code -Dpatu.fuzz.cases=N} changes its
 * size. The pod-side namespace is real, so a validation gap shows up as a networked pod, not as a
 * harmless failure further down.
 */
class HostileInputIT extends WithAgent {
    static final int CASES = Integer.getInteger("patu.fuzz.cases", 10_000);
    private static final int THREADS = 4;
    private static final Set<Integer> SPEC_CODES = Set.of(1, 2, 3, 4, 6, 7, 11);
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");
    private static final String VALID = "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\"}";

    private String netnsName;
    private Path netns;
    private Path loop;

    @BeforeEach
    void start() throws Exception {
        netnsName = "patu-it-" + agent.id + "-fuzz";
        netns = NetNs.create(netnsName);
        loop = agent.work.resolve("loop");
        Files.createSymbolicLink(loop, agent.work.resolve("loop2"));
        Files.createSymbolicLink(agent.work.resolve("loop2"), loop);
    }

    @AfterEach
    void stop() {
        NetNs.delete(netnsName);
    }

    /** One generated call and the error codes the spec gives to what is wrong with it. */
    record Case(int index, String category, Map<String, String> env, byte[] stdin, Set<Integer> codes) {
        String describe() {
            String in = stdin.length > 200 ? new String(stdin, 0, 200, StandardCharsets.UTF_8) + "... (" + stdin.length + " bytes)"
                    : new String(stdin, StandardCharsets.UTF_8);
            return "#" + index + " [" + category + "] env=" + printable(env.toString()) + " stdin=" + printable(in);
        }
    }

    @Test
    void everyHostileCallIsASpecErrorAndChangesNothing() throws Exception {
        long seed = Long.getLong("patu.fuzz.seed", System.nanoTime());
        System.out.println("HostileInputIT seed " + seed + " (-Dpatu.fuzz.seed=" + seed + " replays it), " + CASES + " cases");
        Generator generator = new Generator(new Random(seed));
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            cases.add(generator.next(i));
        }
        Snapshot before = snapshot(cases);

        long started = System.nanoTime();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> byCategory = new TreeMap<>();
        Map<Integer, Integer> byCode = new TreeMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (Case c : cases) {
                answers.add(pool.submit(() -> check(c, failures)));
            }
            for (int i = 0; i < cases.size(); i++) {
                int code = answers.get(i).get(5, TimeUnit.MINUTES);
                byCategory.merge(cases.get(i).category(), 1, Integer::sum);
                byCode.merge(code, 1, Integer::sum);
            }
        } finally {
            pool.shutdownNow();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.println("HostileInputIT: " + cases.size() + " calls in " + millis + " ms; by category " + byCategory
                + "; by answered code " + byCode);

        AgentUnderTest.CniCall version = agent.cni(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"1.0.0\"}");
        AgentUnderTest.assertExit(0, version);
        assertTrue(agent.isAlive(), "the agent is still running");
        assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())),
                failures.size() + " of " + cases.size() + " answers were not spec errors (first 20 shown); seed " + seed);
        assertEquals(before, snapshot(cases), "state changed; seed " + seed);
    }

    @Test
    void aFifoAsTheNetnsIsRefusedWithoutHangingTheAgent() throws Exception {
        Path fifo = agent.work.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        try {
            Snapshot before = snapshot(List.of());
            Map<String, String> env = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "fifo-" + agent.id,
                    "CNI_NETNS", fifo.toString(), "CNI_IFNAME", "eth0", "PATU_TIMEOUT_SECONDS", "10");
            AgentUnderTest.CniCall add = AgentUnderTest.exec(AgentUnderTest.DIST.resolve("cni/patu"), agent.socket, env,
                    VALID.getBytes(StandardCharsets.UTF_8));
            assertEquals(4, add.json().get("code").asInt(), add.stdout());
            AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "VERSION", "PATU_TIMEOUT_SECONDS", "10"),
                    "{\"cniVersion\":\"1.0.0\"}"));
            assertEquals(before, snapshot(List.of()));
        } finally {
            // A worker stuck opening the FIFO for reading is released by a writer; with nobody reading, give up.
            new ProcessBuilder("timeout", "2", "sh", "-c", "echo > \"$0\"", fifo.toString()).start().waitFor();
        }
    }

    @Test
    void anInterfaceNameWithAPercentSignIsAnInvalidEnvironment() throws Exception {
        // The kernel reads '%' as a name template (eth%d): it must be refused before anything is created.
        Snapshot before = snapshot(List.of());
        for (String ifName : List.of("eth%d", "..%2f..%2fetc", "%")) {
            Map<String, String> env = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "pct-" + agent.id,
                    "CNI_NETNS", netns.toString(), "CNI_IFNAME", ifName);
            AgentUnderTest.CniCall add = agent.cni(env, VALID);
            assertEquals(4, add.json().get("code").asInt(), ifName + ": " + add.stdout());
        }
        assertEquals(before, snapshot(List.of()));
    }

    /** Runs one case; returns the code it was answered with, recording anything wrong about the answer. */
    private int check(Case c, List<String> failures) {
        AgentUnderTest.CniCall call = AgentUnderTest.exec(AgentUnderTest.DIST.resolve("cni/patu"), agent.socket, c.env(), c.stdin());
        JsonNode json;
        try {
            json = AgentUnderTest.JSON.readTree(call.stdout());
        } catch (Exception e) {
            json = null;
        }
        int code = json != null && json.path("code").isInt() ? json.get("code").asInt() : -1;
        String problem = null;
        if (call.exitCode() == 0) {
            problem = "exit 0";
        } else if (json == null || !json.isObject()) {
            problem = "not a JSON object";
        } else if (!SPEC_CODES.contains(code) || !c.codes().contains(code)) {
            problem = "code " + code + ", expected one of " + c.codes();
        } else if (json.path("msg").asText("").isBlank()) {
            problem = "no message";
        }
        if (problem != null) {
            failures.add(problem + ": " + c.describe() + " -> exit " + call.exitCode() + " " + printable(call.stdout()));
        }
        return code;
    }

    /** What a wrongly accepted call would leave: links, leases, registry entries, local_pods keys. */
    record Snapshot(List<String> links, List<String> podLinks, String leases, String pods, List<String> localPods) {
    }

    private Snapshot snapshot(List<Case> cases) throws Exception {
        List<String> vethNames = cases.stream().filter(c -> c.env().containsKey("CNI_CONTAINERID") && c.env().containsKey("CNI_IFNAME"))
                .map(c -> hostVeth(c.env().get("CNI_CONTAINERID"), c.env().get("CNI_IFNAME"))).distinct().toList();
        List<String> links = new ArrayList<>();
        try (RtNetlink host = RtNetlink.open()) {
            Optional<Link> bridge = host.link(agent.bridge);
            for (Link link : host.links()) {
                boolean onBridge = bridge.isPresent() && link.masterIndex() == bridge.get().index();
                if (link.name().equals(agent.bridge) || onBridge || vethNames.contains(link.name())) {
                    links.add(link.name());
                }
            }
        }
        List<String> podLinks;
        try (RtNetlink inPod = RtNetlink.openIn(netns)) {
            podLinks = inPod.links().stream().map(Link::name).sorted().toList();
        }
        Path leases = agent.stateDir.resolve("ipam/leases.json");
        Path pods = agent.stateDir.resolve("pods.json");
        List<String> localPods = Files.exists(agent.sockmapPins().resolve("local_pods")) ? agent.localPodKeys() : List.of();
        return new Snapshot(links, podLinks, Files.exists(leases) ? normalised(leases) : "none",
                Files.exists(pods) ? normalised(pods) : "none", localPods);
    }

    private static String normalised(Path json) throws Exception {
        return AgentUnderTest.JSON.readTree(json.toFile()).toString();
    }

    /** The agent's host veth name for an attachment (lifecycle's HostVethNames): "patu" + 10 hex of SHA-256. */
    static String hostVeth(String containerId, String ifName) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((containerId + "/" + ifName).getBytes(StandardCharsets.UTF_8));
            return "patu" + HexFormat.of().formatHex(digest, 0, 5);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(300).forEach(c -> out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : Character.toString(c)));
        return out.toString();
    }

    /** The hostile calls, by category; each value it puts in a call is wrong in the way the category says. */
    private final class Generator {
        private final Random random;

        Generator(Random random) {
            this.random = random;
        }

        Case next(int index) {
            int pick = random.nextInt(100);
            if (pick < 14) {
                return brokenJson(index);
            } else if (pick < 15) {
                return hugeStdin(index);
            } else if (pick < 25) {
                return missingEnvironment(index);
            } else if (pick < 34) {
                return contradictoryEnvironment(index);
            } else if (pick < 44) {
                return unknownVersion(index);
            } else if (pick < 56) {
                return badNetns(index);
            } else if (pick < 68) {
                return hostileContainerId(index);
            } else if (pick < 78) {
                return hostileIfName(index);
            } else if (pick < 86) {
                return wrongJsonTypes(index);
            } else if (pick < 93) {
                return pathTraversal(index);
            } else if (pick < 95) {
                return invalidMtu(index);
            } else if (pick < 97) {
                return invalidIpam(index);
            } else if (pick < 98) {
                return hostileCniArgs(index);
            }
            return unhonourableKey(index);
        }

        private Map<String, String> env(String command) {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("CNI_COMMAND", command);
            env.put("CNI_CONTAINERID", "fz-" + agent.id + "-" + Integer.toHexString(random.nextInt()));
            env.put("CNI_NETNS", netns.toString());
            env.put("CNI_IFNAME", "eth" + random.nextInt(10));
            env.put("CNI_PATH", "/usr/lib/cni");
            return env;
        }

        private String anyOf(String... values) {
            return values[random.nextInt(values.length)];
        }

        private Case of(int index, String category, Map<String, String> env, String stdin, Integer... codes) {
            return new Case(index, category, env, stdin.getBytes(StandardCharsets.UTF_8), Set.of(codes));
        }

        private Case brokenJson(int index) {
            String command = anyOf("ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC", "ADD", "ADD");
            String valid = VALID;
            String stdin = switch (random.nextInt(9)) {
                case 0 -> valid.substring(0, 1 + random.nextInt(valid.length() - 1)); // truncated
                case 1 -> "";
                case 2 -> anyOf("[]", "1", "\"x\"", "null", "true", "[" + valid + "]", "-0.5e3");
                case 3 -> "{".repeat(65 + random.nextInt(200)); // deeper than the parser allows, and unclosed
                case 4 -> "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\"" + anyOf(",", ":", ",,}", "'", ",\"");
                case 5 -> "{'cniVersion':'1.0.0'}";
                case 6 -> "{\"cniVersion\":\"1.0.0\",\"name\":\"x\u0001\"}".replace("\u0001", "\u0001\n\"");
                case 7 -> randomBytes();
                default -> "{\"cniVersion\":\"1.0.0\",\"name\":\"" + "x".repeat(70_000) + "\",\"type\":\"patu\"}"; // over the string limit
            };
            Map<String, String> env = env(command);
            if (stdin.isEmpty() || stdin.startsWith("\u0000")) {
                return new Case(index, "broken-json", env, stdin.getBytes(StandardCharsets.ISO_8859_1), Set.of(6));
            }
            return of(index, "broken-json", env, stdin, 6);
        }

        private String randomBytes() {
            byte[] bytes = new byte[1 + random.nextInt(512)];
            random.nextBytes(bytes);
            bytes[0] = (byte) anyOf("\u0000", "\u00ff", "{", "\u00c3", "[").charAt(0);
            if ((bytes[0] == '{' || bytes[0] == '[') && bytes.length > 1) {
                bytes[1] = 1; // a control character outside a string: never JSON, whatever follows
            }
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }

        private Case hugeStdin(int index) {
            int size = (1 << 20) + 1 + random.nextInt(1 << 20);
            byte[] stdin = new byte[size];
            byte filler = (byte) anyOf(" ", "{", "x", "\u0000").charAt(0);
            java.util.Arrays.fill(stdin, filler);
            byte[] head = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\",\"pad\":\"".getBytes(StandardCharsets.US_ASCII);
            if (random.nextBoolean()) {
                System.arraycopy(head, 0, stdin, 0, head.length);
            }
            return new Case(index, "huge-stdin", env(anyOf("ADD", "DEL", "CHECK", "VERSION")), stdin, Set.of(6));
        }

        private Case missingEnvironment(int index) {
            String command = anyOf("ADD", "CHECK", "DEL");
            Map<String, String> env = env(command);
            String missing = switch (random.nextInt(command.equals("DEL") ? 3 : 4)) {
                case 0 -> "CNI_COMMAND";
                case 1 -> "CNI_CONTAINERID";
                case 2 -> "CNI_IFNAME";
                default -> "CNI_NETNS";
            };
            if (random.nextBoolean()) {
                env.remove(missing);
            } else {
                env.put(missing, "");
            }
            return of(index, "missing-env", env, VALID, 4);
        }

        private Case contradictoryEnvironment(int index) {
            Map<String, String> env = env("ADD");
            switch (random.nextInt(5)) {
                case 0 -> env.put("CNI_COMMAND", anyOf("add", "Add", "ADDD", "ADD ", " ADD", "DEL;ADD", "ADD\nDEL", "ÄDD", "INIT",
                        "VERSION\t", "check", "STATUS?", "GC!", "\u202eDDA"));
                case 1 -> {
                    // STATUS and GC are CNI 1.1.0 verbs; the configuration speaks an older version.
                    env.put("CNI_COMMAND", anyOf("STATUS", "GC"));
                    return of(index, "contradictory-env", env, VALID, 1);
                }
                case 2 -> env.put("CNI_NETNS", anyOf("net", "./net", "proc/1/ns/net", "~/netns", "$HOME"));
                case 3 -> env.put("CNI_COMMAND", "x".repeat(1 + random.nextInt(3000)));
                default -> env.put("CNI_COMMAND", anyOf("ADD,DEL", "ADD DEL", "0", "-1", "ADD\u0001"));
            }
            return of(index, "contradictory-env", env, VALID, 4);
        }

        private Case unknownVersion(int index) {
            String command = anyOf("ADD", "DEL", "CHECK");
            String version = anyOf("0.0.1", "0.0.9", "0.2.9", "0.5.0", "0.9.9", "1.0.1", "1.2.0", "2.0.0", "9.9.9", "1.0",
                    "1", "v1.0.0", "1.0.0-rc1", "1.0.0 ", " 1.0.0", "", "1.0.0\\n", "1.0.0\\u0000", "\u00b9.0.0", "1.0.0.0",
                    "latest", "../1.0.0", "%s%s%n");
            if (random.nextInt(4) == 0) {
                String config = "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"" + version + "\",\"" + anyOf("3.0.0", "0.0.2") + "\"],"
                        + "\"name\":\"patu-it\",\"type\":\"patu\"}";
                return of(index, "unknown-version", env(command), config, 1);
            }
            return of(index, "unknown-version", env(command),
                    "{\"cniVersion\":\"" + version + "\",\"name\":\"patu-it\",\"type\":\"patu\"}", 1);
        }

        private Case badNetns(int index) {
            String command = anyOf("ADD", "ADD", "ADD", "CHECK");
            Map<String, String> env = env(command);
            String path = switch (random.nextInt(12)) {
                case 0 -> "/etc/passwd";
                case 1 -> anyOf("/proc/1/ns/mnt", "/proc/1/ns/pid", "/proc/self/ns/uts", "/proc/self/ns/user", "/proc/1/ns/cgroup");
                case 2 -> anyOf("/", "/tmp", "/proc", "/run/netns", agent.work.toString(), "/proc/self/ns");
                case 3 -> loop.toString();
                case 4 -> "/run/netns/nonexistent-" + random.nextInt(1_000_000);
                case 5 -> anyOf("/dev/null", "/dev/zero", "/dev/urandom", "/proc/self/status", "/sys/kernel/mm");
                case 6 -> "/" + "a".repeat(4097 + random.nextInt(2000));
                case 7 -> "/" + "d/".repeat(1000 + random.nextInt(1000)) + "net"; // long, nonexistent
                case 8 -> "/run/netns/x\u0001\u001b[2J";
                case 9 -> "/proc/self/ns/net/../../../../etc/shadow";
                case 10 -> "/run/netns/\u00fc\u00f1\u00ef\u2603";
                default -> agent.socket.toString(); // a socket, not a namespace
            };
            env.put("CNI_NETNS", path);
            // CHECK of a container the agent never saw is "unknown container" before any path is opened.
            return of(index, "bad-netns", env, VALID, command.equals("CHECK") ? new Integer[] {3, 4} : new Integer[] {4});
        }

        private Case hostileContainerId(int index) {
            String command = anyOf("ADD", "ADD", "DEL", "CHECK");
            Map<String, String> env = env(command);
            String id;
            do {
                id = switch (random.nextInt(9)) {
                    case 0 -> anyOf("../../etc", "../", "..", ".", "a/../../b", "/abs", "a/b", "-rf", "_x", ".hidden");
                    case 1 -> "c" + (char) (1 + random.nextInt(31)) + "x";
                    case 2 -> "c\u007fx";
                    case 3 -> anyOf("\u00fcnicode", "caf\u00e9", "\u4e2d\u6587", "\ud83d\ude00", "a\u202eb", "a\u200bb", "\uff21");
                    case 4 -> "a" + "b".repeat(1024 + random.nextInt(20_000)); // longer than the 1024 allowed
                    case 5 -> anyOf("a b", "a\tb", "a\nb", "a;rm -rf /", "a$(id)", "a`id`", "a|b", "a&b", "a>b", "a*");
                    case 6 -> anyOf("a\"b", "a'b", "a\\b", "a{}", "a%00b", "a%2e%2e", "a=b", "a,b", "a:b", "a@b");
                    case 7 -> " " + "leading-space";
                    default -> randomString(1 + random.nextInt(40));
                };
            } while (CONTAINER_ID.matcher(id).matches() && id.length() <= 1024);
            env.put("CNI_CONTAINERID", id);
            return of(index, "hostile-container-id", env, VALID, 4);
        }

        private Case hostileIfName(int index) {
            Map<String, String> env = env(anyOf("ADD", "ADD", "DEL", "CHECK"));
            String name = switch (random.nextInt(8)) {
                case 0 -> anyOf(".", "..");
                case 1 -> "e".repeat(16 + random.nextInt(300));
                case 2 -> anyOf("eth0/..", "../eth0", "a/b", "/", "eth0:1", "eth:");
                case 3 -> anyOf("eth 0", "eth\t0", "eth\n0", " eth0", "eth0 ", "e\u000bth");
                case 4 -> "e" + (char) (1 + random.nextInt(31));
                case 5 -> "e\u007f";
                case 6 -> anyOf("\u00e9", "\ud83d\ude00", "\u4e2d").repeat(16); // > 15 bytes in any encoding
                default -> "eth0/" + "x".repeat(random.nextInt(10));
            };
            env.put("CNI_IFNAME", name);
            return of(index, "hostile-ifname", env, VALID, 4);
        }

        private Case wrongJsonTypes(int index) {
            String command = anyOf("ADD", "DEL", "CHECK");
            String value = anyOf("1", "1.5", "true", "false", "[]", "{}", "[\"1.0.0\"]", "{\"v\":\"1.0.0\"}");
            String config = switch (random.nextInt(4)) {
                case 0 -> "{\"cniVersion\":" + value + ",\"name\":\"patu-it\",\"type\":\"patu\"}";
                case 1 -> "{\"cniVersion\":\"1.0.0\",\"name\":" + value + ",\"type\":\"patu\"}";
                case 2 -> "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":" + value + "}";
                default -> "{\"cniVersion\":\"1.0.0\",\"cniVersions\":" + anyOf("1", "\"1.0.0\"", "[1]", "[]", "{}", "[null]")
                        + ",\"name\":\"patu-it\",\"type\":\"patu\"}";
            };
            return of(index, "wrong-json-types", env(command), config, 7);
        }

        /** CNI_ARGS that types.LoadArgs of the reference plugins refuses too (and over-long values). */
        private Case hostileCniArgs(int index) {
            Map<String, String> env = env(anyOf("ADD", "CHECK", "DEL", "ADD"));
            env.put("CNI_ARGS", anyOf(";;==;K8S_POD_NAME", "K8S_POD_NAME", "K8S_POD_NAME=a=b", "=", ";",
                    "IgnoreUnknown=1;;K8S_POD_NAME=x", "IgnoreUnknown=maybe;K8S_POD_NAME=x", "FOO=bar",
                    "K8S_POD_NAMESPACE=ns;FOO=bar", "IgnoreUnknown=1;K8S_POD_NAME=" + "n".repeat(2000),
                    "IgnoreUnknown=1;K8S_POD_NAME=x\u0001y", "x".repeat(17_000)));
            return of(index, "hostile-cni-args", env, VALID, 4);
        }

        private Case pathTraversal(int index) {
            Map<String, String> env = env(anyOf("ADD", "ADD", "CHECK", "DEL"));
            String traversal = anyOf("../../../../etc/passwd", "..%2f..%2fetc", "..\\..\\windows", "/../../root/.ssh",
                    "....//....//etc", "%2e%2e/%2e%2e/");
            switch (random.nextInt(4)) {
                case 0 -> env.put("CNI_CONTAINERID", traversal);
                // Backslashes and dots are legal in interface names; the slash is what makes these hostile.
                case 1 -> env.put("CNI_IFNAME", anyOf("../eth0", "../../x", "..//", "/../", "x/../../y"));
                case 2 -> {
                    if (env.get("CNI_COMMAND").equals("DEL")) {
                        env.put("CNI_CONTAINERID", "a/" + traversal);
                    } else {
                        env.put("CNI_NETNS", traversal.startsWith("/") ? traversal.substring(1) : traversal); // relative
                    }
                }
                default -> {
                    return of(index, "path-traversal", env,
                            "{\"cniVersion\":\"1.0.0\",\"name\":\"" + traversal.replace("\\", "\\\\") + "\",\"type\":\"patu\"}", 7);
                }
            }
            return of(index, "path-traversal", env, VALID, 4);
        }

        /** The conflist's mtu outside 68..65535, or not an integer (docs/mtu.md): error 7 before anything is made. */
        private Case invalidMtu(int index) {
            String mtu = anyOf("-5", "0", "67", "65536", "4294967363", "-2147483648", "1e309", "9000.5", "9e3", "\"9000\"",
                    "\"\"", "true", "[1500]", "{\"mtu\":1500}", Integer.toString(65536 + random.nextInt(Integer.MAX_VALUE - 65536)),
                    Integer.toString(-random.nextInt(Integer.MAX_VALUE)), Integer.toString(random.nextInt(68)));
            return of(index, "invalid-mtu", env(anyOf("ADD", "ADD", "CHECK")),
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\",\"mtu\":" + mtu + "}", 7);
        }

        private Case invalidIpam(int index) {
            String cidr = anyOf("10.0.0.0/33", "10.0.0.0/-1", "300.1.1.1/24", "10.0.0/24", "10.0.0.0/", "/24", "abc/24",
                    "fd00::/129", "fd00:::/64", "10.0.0.0/24/24", "10.0.0.1-10.0.0.9", "0x0a000000/8", "10.0.0.0/8a");
            int where = random.nextInt(4);
            if (where < 2 && random.nextInt(14) == 0) {
                cidr = ""; // an empty subnet; an empty gateway or rangeStart means "not given", as in host-local
            }
            String ipam = switch (where) {
                case 0 -> "{\"type\":\"host-local\",\"subnet\":\"" + cidr + "\"}";
                case 1 -> "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"" + cidr + "\"}]]}";
                case 2 -> "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\",\"gateway\":\"" + cidr + "\"}]]}";
                default -> "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\",\"rangeStart\":\"" + cidr + "\"}]]}";
            };
            return of(index, "invalid-ipam", env("ADD"),
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\",\"ipam\":" + ipam + "}", 7);
        }

        /**
         * A plugin key the agent cannot honour (lifecycle's NetconfKeys, docs/netconf.md): another bridge, a mode
         * Patu's plumbing does not have, an ipMasq that contradicts the agent's egress feature (IPv4 masqueraded,
         * IPv6 not), a wrong type. The key's case varies, as Go's decoding matches keys whatever their case.
         */
        private Case unhonourableKey(int index) {
            String v6Ranges = ",\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"fd00:77:"
                    + Integer.toHexString(random.nextInt(0xffff)) + "::/64\"}]]}";
            String[] pair = switch (random.nextInt(17)) {
                case 0 -> new String[] {"bridge", "\"" + anyOf("cni0", "podman0", "docker0", agent.bridge + "x", "", "PTB") + "\""};
                case 1 -> new String[] {"isGateway", "false"};
                case 2 -> new String[] {"isDefaultGateway", "false"};
                case 3 -> new String[] {"forceAddress", "true"};
                case 4 -> new String[] {"hairpinMode", "true"};
                case 5 -> new String[] {"promiscMode", "true"};
                case 6 -> new String[] {"vlan", Integer.toString(1 + random.nextInt(4094))};
                case 7 -> new String[] {"vlanTrunk", "[{\"id\":" + (1 + random.nextInt(4094)) + "}]"};
                case 8 -> new String[] {anyOf("enabledad", "macspoofchk", "disableContainerInterface", "portIsolation"), "true"};
                case 9 -> new String[] {"ipMasqBackend", "\"" + anyOf("iptables", "ebpf", "") + "\""};
                case 10 -> new String[] {"subnet", "\"" + anyOf("10.77.0.0/16", agent.subnetPrefix + "0/24", "fd00::/64") + "\""};
                case 11 -> new String[] {"capabilities", "{\"" + anyOf("bandwidth", "mac", "dns", "aliases") + "\":true}"};
                case 12 -> new String[] {"ipMasq", "false"};
                case 13 -> new String[] {"ipMasq", "true" + v6Ranges};
                case 14 -> new String[] {anyOf("hairpinMode", "isGateway", "ipMasq", "promiscMode"), anyOf("\"true\"", "1", "[]", "{}")};
                case 15 -> new String[] {"bridge", anyOf("1", "true", "[]", "{}")};
                default -> new String[] {"vlan", anyOf("\"5\"", "1.5", "true")};
            };
            String key = switch (random.nextInt(4)) {
                case 0 -> pair[0].toUpperCase(java.util.Locale.ROOT);
                case 1 -> pair[0].toLowerCase(java.util.Locale.ROOT);
                default -> pair[0];
            };
            return of(index, "unhonourable-key", env("ADD"),
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\",\"" + key + "\":" + pair[1] + "}", 7);
        }

        private String randomString(int length) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < length; i++) {
                int c = switch (random.nextInt(4)) {
                    case 0 -> 1 + random.nextInt(127);
                    case 1 -> 0x80 + random.nextInt(0x780);
                    case 2 -> 0x800 + random.nextInt(0xd000);
                    default -> 0x10000 + random.nextInt(0x1000);
                };
                out.appendCodePoint(c);
            }
            return out.toString();
        }
    }
}
