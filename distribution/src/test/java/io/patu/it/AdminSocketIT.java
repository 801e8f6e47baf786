package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * The agent socket serves root only, even when its file mode would let others connect: the agent checks
 * each peer's uid (SO_PEERCRED). The test loosens the socket to 0666 and runs the real {@code cni/patu} as
 * nobody (setpriv); every call is refused with a CNI error (or a line of text for the shell), logged, and
 * changes nothing. Root is still served.
 */
class AdminSocketIT extends WithAgent {
    private static final int NOBODY = 65534;
    private static final int NOT_PERMITTED = 102;

    private String netnsName;
    private Path netns;
    private Path binDir;

    @BeforeEach
    void start() throws Exception {
        netnsName = "patu-it-" + agent.id + "-peer";
        netns = NetNs.create(netnsName);
        binDir = Files.createTempDirectory("patu-it-" + agent.id + "-bin");
        Files.setPosixFilePermissions(binDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path plugin = Files.copy(AgentUnderTest.DIST.resolve("cni/patu"), binDir.resolve("patu"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void stop() throws Exception {
        try {
            NetNs.delete(netnsName);
        } finally {
            AgentUnderTest.deleteTree(binDir);
        }
    }

    @Test
    void theSocketIsRootsAndOtherUsersAreRefusedEvenWhenItsModeLetsThemIn() throws Exception {
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(agent.socket));
        assertEquals(0, Files.getAttribute(agent.socket, "unix:uid"));
        assertEquals(0, Files.getAttribute(agent.socket, "unix:gid"));

        // The mistake the peer check guards against: a socket (and its directory) anyone may connect to.
        Set<PosixFilePermission> workMode = Files.getPosixFilePermissions(agent.work);
        Files.setPosixFilePermissions(agent.work, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(agent.socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        String before = state();
        try {
            Map<String, String> add = Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "peer-" + agent.id,
                    "CNI_NETNS", netns.toString(), "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni");
            for (Map<String, String> env : List.of(add, Map.of("CNI_COMMAND", "VERSION"),
                    Map.of("CNI_COMMAND", "STATUS"), withCommand(add, "DEL"), withCommand(add, "CHECK"))) {
                AgentUnderTest.CniCall call = asNobody(List.of(), env, TestPod.CONFIG);
                assertEquals(1, call.exitCode(), "refused: " + call.stdout());
                JsonNode error = call.json();
                assertEquals(NOT_PERMITTED, error.get("code").asInt(), call.stdout());
                String message = error.get("msg").asText();
                assertTrue(message.contains("only root (uid 0)") && message.contains("uid " + NOBODY), call.stdout());
            }
            // Not even a well-formed frame is needed to be refused; garbage gets the same answer.
            AgentUnderTest.CniCall garbage = asNobody(List.of(), add, "x".repeat(3 << 20));
            assertEquals(NOT_PERMITTED, garbage.json().get("code").asInt(), garbage.stdout());

            AgentUnderTest.CniCall shell = asNobody(List.of("--shell", "patu:disable ipam"), Map.of(), "");
            assertEquals(1, shell.exitCode(), shell.stdout());
            assertTrue(shell.stdout().startsWith("patu: permission denied: only root (uid 0)"), shell.stdout());

            assertEquals(before, state(), "a refused caller changed nothing");
            AgentUnderTest.await("the refusals in the agent log", 10,
                    () -> agent.output().contains("refused a connection to " + agent.socket + " from user nobody (uid " + NOBODY + ")"));
        } finally {
            Files.setPosixFilePermissions(agent.socket, PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(agent.work, workMode);
        }

        // Root still is served, ipam still enabled (the refused shell command did not run).
        AgentUnderTest.assertExit(0, agent.shell("patu:status"));
        try (TestPod pod = new TestPod(agent, "root")) {
            assertTrue(pod.address.getHostAddress().startsWith(agent.subnetPrefix));
        }
    }

    private static Map<String, String> withCommand(Map<String, String> env, String command) {
        Map<String, String> copy = new java.util.HashMap<>(env);
        copy.put("CNI_COMMAND", command);
        return copy;
    }

    /** Links of the agent's bridge and this test's veth, pod-side links, leases, registry, local_pods keys. */
    private String state() throws Exception {
        List<String> found = new ArrayList<>();
        try (RtNetlink host = RtNetlink.open()) {
            String veth = HostileInputIT.hostVeth("peer-" + agent.id, "eth0");
            host.links().stream().map(Link::name).filter(n -> n.equals(agent.bridge) || n.equals(veth)).forEach(found::add);
        }
        try (RtNetlink inPod = RtNetlink.openIn(netns)) {
            inPod.links().stream().map(Link::name).sorted().forEach(n -> found.add("pod:" + n));
        }
        for (String file : List.of("ipam/leases.json", "pods.json", "features.json")) {
            Path path = agent.stateDir.resolve(file);
            found.add(file + "=" + (Files.exists(path) ? Files.readString(path).strip() : "none"));
        }
        if (Files.exists(agent.sockmapPins().resolve("local_pods"))) {
            found.add("local_pods=" + agent.localPodKeys());
        }
        return String.join("\n", found);
    }

    /** Runs the plugin copy as nobody:nogroup with no supplementary groups. */
    private AgentUnderTest.CniCall asNobody(List<String> args, Map<String, String> env, String stdin) throws Exception {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                binDir.resolve("patu").toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(k -> k.startsWith("CNI_"));
        builder.environment().putAll(env);
        builder.environment().put("PATU_SOCKET", agent.socket.toString());
        builder.environment().put("PATU_TIMEOUT_SECONDS", "20");
        Process call = builder.start();
        try (OutputStream in = call.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            // refused before the plugin read it all
        }
        String out = new String(call.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(call.waitFor(30, TimeUnit.SECONDS), "the plugin finished");
        assertFalse(out.isEmpty(), "an answer");
        return new AgentUnderTest.CniCall(call.exitValue(), out);
    }
}
