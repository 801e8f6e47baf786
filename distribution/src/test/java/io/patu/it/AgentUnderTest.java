package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.testing.TestNames;

/**
 * The assembled agent (distribution/target/patu) run as a device would run it, {@code bin/patu run},
 * with a configuration of its own: a unique socket, bridge, subnet, bpffs directory, state directory,
 * and a cgroup v2 created for the test (never the root). Its Gogo shell is driven through stdin.
 * Closing it stops the agent and removes every kernel object and file the test run made.
 */
final class AgentUnderTest implements AutoCloseable {
    static final Path DIST = Path.of(System.getProperty("patu.dist", "target/patu"));
    static final ObjectMapper JSON = new ObjectMapper();

    /** Indexes into {@link #sockmapCounters()}: the fields of struct patu_sockmap_counters. */
    static final int MSGS_REDIRECTED = 0;
    static final int BYTES_REDIRECTED = 1;
    static final int SOCKETS_ADDED = 4;
    static final int SOCKETS_ADD_FAILED = 5;
    static final int TO_PLAIN_SMALL = 6;
    static final int TO_PLAIN_NO_PEER = 7;
    static final int TO_PLAIN_FULL = 8;
    static final int BACK_TO_REDIRECT = 9;
    static final int CONNS_UNTRACKED = 10;
    static final int SOCKETS_LEFT = 11;
    /** Fields of patu_sockmap_counters (bpf/include/patu_sockmap.h). */
    static final int SOCKMAP_COUNTERS = 12;

    final String id = TestNames.unique("", 6);
    final Path work;
    final Path socket;
    final Path stateDir;
    final Path bpffsDir;
    private final boolean ownsBpffsDir;
    final String bridge = "ptb" + id;
    /** The agent's nftables table (family inet): the egress feature's, named apart from every other agent's. */
    final String egressTable = "patu_it_" + id;
    final Path config;
    private boolean egressTableLeft;
    final String subnetPrefix;
    final Path cgroup;
    /** Where the metrics bundle (full profile) listens: loopback, a port free when the agent was configured. */
    final int metricsPort;
    private final List<String> command;
    private Process process;
    /** How long a (re)start may take to answer; a test that loads the machine (a full-speed stream) raises it. */
    int startSeconds = 30;
    private final List<String> output = new ArrayList<>();
    /** Environment variables of the agent's next (re)starts on top of the test's own (PATU_JVM_OPTS, for a test hook). */
    final Map<String, String> environment = new java.util.HashMap<>();

    AgentUnderTest() throws Exception {
        this(null, null, null, Map.of());
    }

    /** An agent whose configuration has these properties on top of the test defaults, per PID. */
    AgentUnderTest(Map<String, Map<String, Object>> extraConfig) throws Exception {
        this(null, null, null, extraConfig);
    }

    /**
     * An agent of the given profile ({@code bin/patu run --profile NAME}; null: no option, the default), whose
     * state directory holds {@code features.json} with the given content before it starts (null: none).
     */
    AgentUnderTest(String profile, String featuresJson) throws Exception {
        this(profile, featuresJson, null, Map.of());
    }

    /** An agent whose pins go to {@code sharedBpffsDir}, another agent's, instead of a directory of its own. */
    AgentUnderTest(Path sharedBpffsDir) throws Exception {
        this(null, null, sharedBpffsDir, Map.of());
    }

    AgentUnderTest(String profile, String featuresJson, Path sharedBpffsDir,
                           Map<String, Map<String, Object>> extraConfig) throws Exception {
        bpffsDir = sharedBpffsDir != null ? sharedBpffsDir : Path.of("/sys/fs/bpf/patu-it-" + id);
        ownsBpffsDir = sharedBpffsDir == null;
        work = Files.createTempDirectory("patu-it-" + id);
        socket = work.resolve("patu.sock");
        stateDir = work.resolve("state");
        int third = Integer.parseInt(id.substring(0, 2), 16);
        subnetPrefix = "10.203." + third + ".";
        cgroup = CgroupV2.create(CgroupV2.ensureMounted(), "patu-it-" + id);
        metricsPort = freePort();
        config = work.resolve("patu.json");
        Map<String, Map<String, Object>> pids = new java.util.TreeMap<>(Map.of(
                // The MTUs stay the shipped defaults unless a test says otherwise: the jumbo node-local path.
                "io.patu.lifecycle", Map.of("bridgeName", bridge, "socketPath", socket.toString(),
                        "stateDir", stateDir.toString()),
                "io.patu.ipam", Map.of("subnet", subnetPrefix + "0/24", "stateDir", stateDir.toString()),
                "io.patu.datapath.sockmap", Map.of("bpffsDir", bpffsDir.toString(), "cgroupPath", cgroup.toString()),
                "io.patu.egress", Map.of("table", egressTable),
                "io.patu.metrics", Map.of("listenAddress", "127.0.0.1", "port", metricsPort),
                "io.patu.policy", Map.of("policyDir", work.resolve("policy").toString(), "bpffsDir", bpffsDir.toString()),
                "io.patu.datapath.xdp", Map.of("bpffsDir", bpffsDir.toString(), "nodeCgroup", cgroup.toString())));
        extraConfig.forEach((pid, properties) -> {
            Map<String, Object> merged = new java.util.TreeMap<>(pids.getOrDefault(pid, Map.of()));
            merged.putAll(properties);
            pids.put(pid, merged);
        });
        Files.write(config, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(pids));
        if (featuresJson != null) {
            Files.createDirectories(stateDir);
            Files.writeString(stateDir.resolve("features.json"), featuresJson);
        }
        command = new ArrayList<>(List.of(DIST.resolve("bin/patu").toString(), "run", "--config", config.toString()));
        if (profile != null) {
            command.addAll(List.of("--profile", profile));
        }
        try {
            launch();
            // An agent with a feature disabled, or on another agent's pins, is not ready by design.
            if (featuresJson == null && sharedBpffsDir == null) {
                awaitReady();
            }
        } catch (Throwable e) {
            // Nobody gets this object to close: stop the agent and remove what it made here (on a loaded
            // machine an agent slower than the timeout was otherwise left running with its pins and cgroup).
            try {
                close();
            } catch (Exception cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Starts the agent again with the same configuration and state, after {@link #kill9()} or {@link #stopAgent()}. */
    void restart() throws Exception {
        if (process.isAlive()) {
            throw new IllegalStateException("the agent still runs");
        }
        launch();
    }

    /** Ends the agent's JVM as a power cut would end it: no shutdown hook, no deactivation. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private ProcessBuilder processBuilder() {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        return builder;
    }

    /** The exit status of an agent that has ended. */
    int exitValue() {
        return process.exitValue();
    }

    /** Starts the agent and waits for it to end by itself (one that dies at start); its exit status. */
    int launchExpectingDeath(int seconds) throws Exception {
        process = processBuilder().start();
        Process started = process;
        Thread reader = new Thread(() -> collectOutput(started), "agent-output-" + id);
        reader.setDaemon(true);
        reader.start();
        if (!started.waitFor(seconds, TimeUnit.SECONDS)) {
            fail("the agent did not die within " + seconds + " s:\n" + output());
        }
        return started.exitValue();
    }

    /**
     * Waits until every feature of the profile is active with its health checks passing ({@code patu:health}):
     * the CNI socket answers as soon as lifecycle starts, before the feature bundles after it in the profile
     * have their configuration, so a test that looked at the kernel then would see an agent still starting.
     */
    void awaitReady() {
        await("the agent to be ready (patu:health)", 30, () -> shell("patu:health").stdout().startsWith("ready: yes"));
    }

    private void launch() throws Exception {
        process = processBuilder().start();
        Process started = process;
        Thread reader = new Thread(() -> collectOutput(started), "agent-output-" + id);
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(startSeconds);
        while (cni(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"1.0.0\"}").exitCode() != 0) {
            if (!started.isAlive()) {
                fail("the agent exited during start-up:\n" + output());
            }
            if (System.nanoTime() > deadline) {
                fail("the agent did not answer on " + socket + " within " + startSeconds + " s; its output:\n" + output()
                        + "\nits threads:\n" + threadDump(started.pid()));
            }
            Thread.sleep(50);
        }
    }

    /** What a hung agent is doing: its Java threads (jcmd) and each thread's kernel wait channel. */
    private static String threadDump(long pid) {
        StringBuilder dump = new StringBuilder();
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid), "Thread.print").redirectErrorStream(true).start();
            dump.append(new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            jcmd.waitFor(30, TimeUnit.SECONDS);
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : tasks.toList()) {
                    String wchan = Files.readString(task.resolve("wchan")).strip();
                    String comm = Files.readString(task.resolve("comm")).strip();
                    if (!wchan.isEmpty() && !wchan.equals("0")) {
                        dump.append(task.getFileName()).append(' ').append(comm).append(": ").append(wchan).append('\n');
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            dump.append("(").append(e).append(")");
        }
        return dump.toString();
    }

    private void collectOutput(Process started) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (output) {
                    output.add(line);
                }
            }
        } catch (IOException e) {
            // The agent is gone; what it printed so far stays available.
        }
    }

    String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    record CniCall(int exitCode, String stdout) {
        ObjectNode json() {
            try {
                return (ObjectNode) JSON.readTree(stdout);
            } catch (IOException e) {
                throw new AssertionError("CNI output is not JSON: " + stdout, e);
            }
        }
    }

    /** Executes the CNI plugin exactly as a runtime does: environment, config on stdin, exit code. */
    CniCall cni(Map<String, String> environment, String stdin) {
        return exec(DIST.resolve("cni/patu"), socket, environment, stdin.getBytes(StandardCharsets.UTF_8));
    }

    static CniCall exec(Path plugin, Path socket, Map<String, String> environment, byte[] stdin) {
        ProcessBuilder builder = new ProcessBuilder(plugin.toString()).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(k -> k.startsWith("CNI_"));
        builder.environment().putAll(environment);
        return runPlugin(builder, socket, stdin);
    }

    /** Runs one command through {@code cni/patu --shell}, the remote shell on the agent socket. */
    CniCall shell(String commandLine) {
        return runPlugin(new ProcessBuilder(DIST.resolve("cni/patu").toString(), "--shell", commandLine)
                .redirectErrorStream(true), socket, new byte[0]);
    }

    private static CniCall runPlugin(ProcessBuilder builder, Path socket, byte[] stdin) {
        builder.environment().put("PATU_SOCKET", socket.toString());
        try {
            Process call = builder.start();
            try (OutputStream in = call.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // The plugin may stop reading a huge stdin early; its answer says why.
            }
            String out = new String(call.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!call.waitFor(60, TimeUnit.SECONDS)) {
                call.destroyForcibly();
                fail("the CNI plugin did not finish in 60 s: " + builder.command());
            }
            return new CniCall(call.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    record HttpAnswer(int status, String body) {
    }

    /** GET {@code path} from the agent's metrics listener. */
    HttpAnswer http(String path) throws IOException, InterruptedException {
        try (java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpResponse<String> response = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + metricsPort + path)).timeout(java.time.Duration.ofSeconds(30)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return new HttpAnswer(response.statusCode(), response.body());
        }
    }

    /** Sends one line to the agent's Gogo shell. */
    void gogo(String command) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /**
     * The eBPF programs, maps and links the agent process holds open, by kind ("bpf-prog=2 bpf-map=4 ..."):
     * what it leaks when a feature does not release everything it loaded.
     */
    String heldBpfObjects() throws IOException {
        java.util.TreeMap<String, Integer> kinds = new java.util.TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("anon_inode:bpf")) {
                        kinds.merge(target.substring("anon_inode:".length()), 1, Integer::sum);
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        return kinds.toString();
    }

    /** Ends the shell's input, as a daemon started without a console sees it. */
    void closeConsole() throws IOException {
        process.getOutputStream().close();
    }

    /**
     * The agent's JVM: {@code bin/patu run} execs it, so it keeps the pid of the process started here, also
     * across a restart the agent makes itself (its launcher execs {@code bin/patu run} again).
     */
    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The id Felix gave the bundle, read from the shell's {@code lb -s}. */
    long bundleId(String symbolicName) throws Exception {
        Pattern row = Pattern.compile("(\\d+)\\s*\\|[^|]*\\|[^|]*\\|\\s*" + Pattern.quote(symbolicName) + " \\(");
        gogo("lb -s");
        long[] found = {-1};
        await("bundle " + symbolicName + " in 'lb -s'", 10, () -> {
            Matcher matcher = row.matcher(output());
            if (matcher.find()) {
                found[0] = Long.parseLong(matcher.group(1));
            }
            return found[0] >= 0;
        });
        return found[0];
    }

    Path sockmapPins() {
        return bpffsDir.resolve("sockmap");
    }

    /** The global counters of the sockmap datapath, summed over CPUs, read from its pinned map. */
    long[] sockmapCounters() {
        try (BpfMap stats = BpfMap.openPinned(sockmapPins().resolve("sockmap_stats"))) {
            byte[] perCpu = stats.lookup(new byte[4]).orElseThrow();
            return sumPerCpu(perCpu, SOCKMAP_COUNTERS);
        }
    }

    /** Keys of the local_pods map: the pod addresses socket redirection is enabled for. */
    List<String> localPodKeys() {
        try (BpfMap pods = BpfMap.openPinned(sockmapPins().resolve("local_pods"))) {
            return pods.keys().stream().map(k -> HexFormat.of().formatHex(k)).sorted().toList();
        }
    }

    static long[] sumPerCpu(byte[] perCpu, int fields) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(perCpu).order(java.nio.ByteOrder.nativeOrder());
        int stride = fields * 8;
        long[] sums = new long[fields];
        for (int cpu = 0; cpu < perCpu.length / stride; cpu++) {
            for (int f = 0; f < fields; f++) {
                sums[f] += buffer.getLong(cpu * stride + f * 8);
            }
        }
        return sums;
    }

    static void await(String what, int seconds, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Stops the agent as a service manager would (SIGTERM), waiting for it to exit. */
    void stopAgent() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Kills the agent as a crash would (SIGKILL): nothing of its shutdown runs. */
    void killAgent() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }

    /** {@code bin/patu purge} with this agent's configuration; its output. */
    String purge() throws Exception {
        Process purge = new ProcessBuilder(DIST.resolve("bin/patu").toString(), "purge", "--config", config.toString())
                .redirectErrorStream(true).start();
        String out = new String(purge.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!purge.waitFor(60, TimeUnit.SECONDS) || purge.exitValue() != 0) {
            fail("bin/patu purge failed: " + out);
        }
        return out;
    }

    /** {@code nft list ruleset}: the host's whole nftables state, as an operator would look at it. */
    static String nftRuleset() throws Exception {
        Process nft = new ProcessBuilder("nft", "list", "ruleset").redirectErrorStream(true).start();
        String out = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!nft.waitFor(30, TimeUnit.SECONDS) || nft.exitValue() != 0) {
            fail("nft list ruleset failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        try {
            stopAgent();
        } finally {
            // A stopped agent removes its egress table itself: one still there is a leftover (reported by
            // leftovers()), removed here all the same so the host stays clean.
            if (nftRuleset().contains("table inet " + egressTable + " {")) {
                egressTableLeft = true;
                new ProcessBuilder("nft", "delete", "table", "inet", egressTable).inheritIO().start().waitFor();
            }
            // The agent keeps its pins on shutdown (for a restart); the test's purge removes them, which
            // detaches the sockops link and frees the maps.
            if (ownsBpffsDir) {
                deleteTree(bpffsDir);
            }
            try (RtNetlink host = RtNetlink.open()) {
                host.deleteLink(bridge);
            }
            // A process the test just killed stays in its cgroup until it has fully exited.
            await("cgroup " + cgroup + " to be removable", 20, () -> {
                try {
                    if (Files.exists(cgroup)) {
                        CgroupV2.removeMovingProcessesTo(cgroup, cgroup.getParent());
                    }
                    return true;
                } catch (io.patu.kernel.NativeException e) {
                    return false;
                }
            });
            deleteTree(work);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    Optional<String> leftovers() throws IOException {
        List<String> found = new ArrayList<>();
        if (ownsBpffsDir && Files.exists(bpffsDir)) {
            found.add("bpffs dir " + bpffsDir);
        }
        try (RtNetlink host = RtNetlink.open()) {
            host.links().stream().filter(l -> l.name().equals(bridge) || l.name().startsWith("patu") && l.masterIndex() != 0
                    && host.link(bridge).map(b -> b.index() == l.masterIndex()).orElse(false))
                    .forEach(l -> found.add("link " + l.name()));
        }
        if (Files.exists(cgroup)) {
            found.add("cgroup " + cgroup);
        }
        if (egressTableLeft) {
            found.add("nftables table inet " + egressTable);
        }
        if (Files.exists(work)) {
            found.add("dir " + work);
        }
        return found.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", found));
    }

    static void assertExit(int expected, CniCall call) {
        assertEquals(expected, call.exitCode(), "CNI exit code; stdout: " + call.stdout());
    }
}
