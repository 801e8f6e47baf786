package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.KernelTest;

/**
 * The CNI spec (1.1.0 and the older versions runtimes still send) through the real executable: results
 * shaped per cniVersion, cniVersions negotiation, CHECK against prevResult and the kernel, GC, and Patu
 * first in a chain with the reference portmap, bandwidth and tuning plugins (Debian's 1.1.1 in
 * /usr/lib/cni), driven the way libcni drives a conflist: each plugin gets the previous result as
 * prevResult on ADD, the final result on CHECK and DEL, and DEL runs in reverse.
 */
@KernelTest
class CniSpecIT {
    private static final Path PLUGINS = Path.of("/usr/lib/cni");
    private static final int HOST_PORT = 18080 + (int) (ProcessHandle.current().pid() % 1000);

    private AgentUnderTest agent;
    private final List<String> namespaces = new ArrayList<>();
    private String natBefore;

    /** A network namespace for one attachment; the agent's DEL is the test's business, the namespace is removed in {@link #removeEverything}. */
    private final class Sandbox {
        final String name;
        final String containerId;
        final Path netns;

        Sandbox(String suffix) {
            name = "patu-it-" + agent.id + "-" + suffix;
            containerId = "spec-" + agent.id + "-" + suffix;
            netns = NetNs.create(name);
            namespaces.add(name);
        }

        Map<String, String> env(String command) {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("CNI_COMMAND", command);
            env.put("CNI_CONTAINERID", containerId);
            env.put("CNI_NETNS", netns.toString());
            env.put("CNI_IFNAME", "eth0");
            env.put("CNI_PATH", PLUGINS.toString());
            return env;
        }
    }

    @BeforeEach
    void startAgent() throws Exception {
        natBefore = run("iptables-save", "-t", "nat") + run("ip6tables-save", "-t", "nat") + run("nft", "list", "tables")
                + run("ip", "-br", "link", "show", "type", "ifb");
        agent = new AgentUnderTest();
    }

    @AfterEach
    void removeEverything() throws Exception {
        try {
            for (String name : namespaces) {
                NetNs.delete(name);
            }
        } finally {
            if (agent != null) {
                agent.close();
                assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
            }
            removePortmapScaffolding();
        }
    }

    private static String config(String version) {
        return "{\"cniVersion\":\"" + version + "\",\"name\":\"patu-spec\",\"type\":\"patu\"}";
    }

    private static ObjectNode json(String text) throws IOException {
        return (ObjectNode) AgentUnderTest.JSON.readTree(text);
    }

    private static String withPrevResult(String config, JsonNode prevResult) throws IOException {
        ObjectNode node = json(config);
        node.set("prevResult", prevResult);
        return node.toString();
    }

    private static void assertError(int code, AgentUnderTest.CniCall call, String... words) {
        assertTrue(call.exitCode() != 0, "errors exit non-zero: " + call.stdout());
        JsonNode json = call.json();
        assertEquals(code, json.get("code").asInt(), call.stdout());
        for (String word : words) {
            assertTrue(json.get("msg").asText().contains(word), "'" + word + "' in " + call.stdout());
        }
    }

    @Test
    void versionListsEverySpecVersionWithRichResults() throws Exception {
        AgentUnderTest.CniCall call = agent.cni(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"0.3.1\"}");
        AgentUnderTest.assertExit(0, call);
        assertEquals("0.3.1", call.json().get("cniVersion").asText());
        assertEquals("[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]", call.json().get("supportedVersions").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    void addResultIsShapedForTheConfigsVersion(String version) throws Exception {
        Sandbox pod = new Sandbox("v");
        AgentUnderTest.CniCall add = agent.cni(pod.env("ADD"), config(version));
        AgentUnderTest.assertExit(0, add);
        ObjectNode result = add.json();
        assertEquals(version, result.get("cniVersion").asText());
        JsonNode ip = result.get("ips").get(0);
        assertEquals(version.startsWith("0.") ? "4" : null, ip.has("version") ? ip.get("version").asText() : null, ip.toString());
        assertEquals(1, ip.get("interface").asInt());
        assertEquals(pod.netns.toString(), result.get("interfaces").get(1).get("sandbox").asText());
        assertFalse(result.get("interfaces").get(0).has("sandbox"), "the host veth is in no sandbox");
        if (!version.startsWith("0.3")) {
            AgentUnderTest.assertExit(0, agent.cni(pod.env("CHECK"), withPrevResult(config(version), result)));
        } else {
            assertError(1, agent.cni(pod.env("CHECK"), withPrevResult(config(version), result)), "CHECK", "0.4.0");
        }
        AgentUnderTest.assertExit(0, agent.cni(pod.env("DEL"), withPrevResult(config(version), result)));
    }

    @Test
    void cniVersionsPicksTheHighestVersionBothSpeak() throws Exception {
        Sandbox pod = new Sandbox("n");
        AgentUnderTest.CniCall add = agent.cni(pod.env("ADD"),
                "{\"cniVersions\":[\"0.3.1\",\"0.4.0\",\"7.0.0\"],\"name\":\"patu-spec\",\"type\":\"patu\"}");
        AgentUnderTest.assertExit(0, add);
        assertEquals("0.4.0", add.json().get("cniVersion").asText());
        assertEquals("4", add.json().get("ips").get(0).get("version").asText());
        assertError(1, agent.cni(pod.env("ADD"),
                "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"7.0.0\"],\"name\":\"patu-spec\",\"type\":\"patu\"}"), "7.0.0");
        // STATUS needs 1.1.0; cniVersions offers it although cniVersion says 1.0.0.
        AgentUnderTest.assertExit(0, agent.cni(Map.of("CNI_COMMAND", "STATUS"),
                "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"1.1.0\"],\"name\":\"patu-spec\",\"type\":\"patu\"}"));
        AgentUnderTest.assertExit(0, agent.cni(pod.env("DEL"), config("0.4.0")));
    }

    @Test
    void checkComparesPrevResultWithWhatPatuMadeAndWithTheKernel() throws Exception {
        Sandbox pod = new Sandbox("c");
        AgentUnderTest.CniCall add = agent.cni(pod.env("ADD"), config("1.0.0"));
        AgentUnderTest.assertExit(0, add);
        ObjectNode result = add.json();
        String cidr = result.get("ips").get(0).get("address").asText();
        AgentUnderTest.assertExit(0, agent.cni(pod.env("CHECK"), withPrevResult(config("1.0.0"), result)));

        ObjectNode otherAddress = result.deepCopy();
        ((ObjectNode) otherAddress.get("ips").get(0)).put("address", agent.subnetPrefix + "250/24");
        assertError(101, agent.cni(pod.env("CHECK"), withPrevResult(config("1.0.0"), otherAddress)),
                agent.subnetPrefix + "250/24", "did not give");
        ObjectNode otherMac = result.deepCopy();
        ((ObjectNode) otherMac.get("interfaces").get(1)).put("mac", "0a:0b:0c:0d:0e:0f");
        assertError(101, agent.cni(pod.env("CHECK"), withPrevResult(config("1.0.0"), otherMac)), "0a:0b:0c:0d:0e:0f");
        ObjectNode extraRoute = result.deepCopy();
        ((ArrayNode) extraRoute.get("routes")).addObject().put("dst", "192.0.2.0/24").put("gw", agent.subnetPrefix + "1");
        assertError(100, agent.cni(pod.env("CHECK"), withPrevResult(config("1.0.0"), extraRoute)), "route 192.0.2.0/24");

        // The kernel loses the address: CHECK says which.
        run("ip", "-n", pod.name, "addr", "del", cidr, "dev", "eth0");
        assertError(100, agent.cni(pod.env("CHECK"), withPrevResult(config("1.0.0"), result)), cidr);
        AgentUnderTest.assertExit(0, agent.cni(pod.env("DEL"), withPrevResult(config("1.0.0"), result)));
    }

    @Test
    void gcRemovesWhatTheRuntimeNoLongerListsAndKeepsTheRest() throws Exception {
        Sandbox keep = new Sandbox("k");
        Sandbox gone = new Sandbox("g");
        AgentUnderTest.CniCall addKeep = agent.cni(keep.env("ADD"), config("1.1.0"));
        AgentUnderTest.assertExit(0, addKeep);
        AgentUnderTest.CniCall addGone = agent.cni(gone.env("ADD"), config("1.1.0"));
        AgentUnderTest.assertExit(0, addGone);
        String goneVeth = addGone.json().get("interfaces").get(0).get("name").asText();
        assertEquals(2, agent.localPodKeys().size());

        Map<String, String> gcEnv = Map.of("CNI_COMMAND", "GC", "CNI_PATH", PLUGINS.toString());
        assertError(1, agent.cni(gcEnv, "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-spec\",\"type\":\"patu\","
                + "\"cni.dev/valid-attachments\":[]}"), "GC");
        assertError(7, agent.cni(gcEnv, config("1.1.0")), "cni.dev/valid-attachments");
        assertEquals(2, agent.localPodKeys().size(), "refused GCs removed nothing");

        AgentUnderTest.CniCall gc = agent.cni(gcEnv, "{\"cniVersion\":\"1.1.0\",\"name\":\"patu-spec\",\"type\":\"patu\","
                + "\"cni.dev/valid-attachments\":[{\"containerID\":\"" + keep.containerId + "\",\"ifname\":\"eth0\"}]}");
        AgentUnderTest.assertExit(0, gc);
        assertEquals("", gc.stdout());

        try (RtNetlink host = RtNetlink.open()) {
            assertTrue(host.link(goneVeth).isEmpty(), "the unlisted attachment's veth is gone");
        }
        assertEquals(1, agent.localPodKeys().size(), "the datapath forgot the unlisted pod");
        JsonNode leases = AgentUnderTest.JSON.readTree(agent.stateDir.resolve("ipam/leases.json").toFile());
        assertEquals(1, leases.get("leases").size(), leases.toString());
        JsonNode pods = AgentUnderTest.JSON.readTree(agent.stateDir.resolve("pods.json").toFile());
        assertEquals(1, pods.get("pods").size(), pods.toString());
        assertEquals(keep.containerId, pods.get("pods").get(0).get("containerId").asText());
        AgentUnderTest.assertExit(0, agent.cni(keep.env("CHECK"), withPrevResult(config("1.1.0"), addKeep.json())));
        // DEL of the collected attachment still succeeds (nothing left to do).
        AgentUnderTest.assertExit(0, agent.cni(gone.env("DEL"), config("1.1.0")));
        AgentUnderTest.assertExit(0, agent.cni(keep.env("DEL"), config("1.1.0")));
    }

    /**
     * Patu first in a conflist, then tuning, bandwidth and portmap, run as libcni runs a list. portmap's own
     * CHECK is not run: plugins 1.1.1 fails it for every IPv4-only attachment (containernetworking/plugins#819).
     */
    @ParameterizedTest
    @ValueSource(strings = {"0.4.0", "1.0.0"})
    void chainedWithTheReferencePlugins(String version) throws Exception {
        Sandbox pod = new Sandbox("chain");
        List<ObjectNode> configs = List.of(
                json(config(version)),
                json("{\"cniVersion\":\"" + version + "\",\"name\":\"patu-spec\",\"type\":\"tuning\","
                        + "\"sysctl\":{\"net.ipv4.conf.eth0.accept_redirects\":\"0\"}}"),
                json("{\"cniVersion\":\"" + version + "\",\"name\":\"patu-spec\",\"type\":\"bandwidth\","
                        + "\"ingressRate\":8000000,\"ingressBurst\":800000,\"egressRate\":8000000,\"egressBurst\":800000}"),
                json("{\"cniVersion\":\"" + version + "\",\"name\":\"patu-spec\",\"type\":\"portmap\","
                        + "\"capabilities\":{\"portMappings\":true},\"runtimeConfig\":{\"portMappings\":"
                        + "[{\"hostPort\":" + HOST_PORT + ",\"containerPort\":8080,\"protocol\":\"tcp\"}]}}"));
        JsonNode[] result = {null};
        try {
            for (ObjectNode config : configs) {
                if (result[0] != null) {
                    config.set("prevResult", result[0]);
                }
                AgentUnderTest.CniCall add = plugin(config.get("type").asText(), pod.env("ADD"), config.toString());
                AgentUnderTest.assertExit(0, add);
                result[0] = add.json();
                assertEquals(version, result[0].get("cniVersion").asText());
            }
            String hostVeth = result[0].get("interfaces").get(0).get("name").asText();
            String podAddress = result[0].get("ips").get(0).get("address").asText().split("/")[0];

            assertEquals("0", run("ip", "netns", "exec", pod.name, "sysctl", "-n", "net.ipv4.conf.eth0.accept_redirects").strip(),
                    "tuning set the sysctl in the pod");
            assertTrue(run("tc", "qdisc", "show", "dev", hostVeth).contains("tbf"), "bandwidth shaped the host veth");
            assertTrue(run("iptables-save", "-t", "nat").contains("--to-destination " + podAddress + ":8080"), "portmap's DNAT");
            assertPublishedPortReachesThePod(pod, podAddress);

            for (ObjectNode config : configs.subList(0, 3)) {
                config.set("prevResult", result[0]);
                AgentUnderTest.assertExit(0, plugin(config.get("type").asText(), pod.env("CHECK"), config.toString()));
            }
            for (ObjectNode config : configs.reversed()) {
                config.set("prevResult", result[0]);
                AgentUnderTest.assertExit(0, plugin(config.get("type").asText(), pod.env("DEL"), config.toString()));
            }
            try (RtNetlink host = RtNetlink.open()) {
                assertTrue(host.link(hostVeth).isEmpty(), "host veth removed");
                assertTrue(host.links().stream().noneMatch(l -> l.name().startsWith("bwp")), "bandwidth's ifb removed");
            }
            assertFalse(run("iptables-save", "-t", "nat").contains(podAddress), "portmap's rules removed");
            assertEquals(List.of(), agent.localPodKeys());
        } finally {
            // Whatever failed, DEL the chain again (DEL is idempotent), so that portmap's per-pod chain and
            // bandwidth's ifb never outlive the test.
            for (ObjectNode config : configs.reversed()) {
                if (result[0] != null) {
                    config.set("prevResult", result[0]);
                }
                plugin(config.get("type").asText(), pod.env("DEL"), config.toString());
            }
        }
    }

    /** A TCP server in the pod answers a connection to the published port on the host's bridge address. */
    private void assertPublishedPortReachesThePod(Sandbox pod, String podAddress) throws Exception {
        Process server = new ProcessBuilder("ip", "netns", "exec", pod.name, "python3", "-c",
                "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                        + "s.bind(('0.0.0.0',8080))\ns.listen(1)\nprint('ready',flush=True)\n"
                        + "c,a=s.accept()\nc.sendall(b'hello from the pod\\n')\nc.close()\n")
                .redirectErrorStream(true).start();
        try {
            InputStream out = server.getInputStream();
            byte[] ready = new byte[6];
            assertEquals(6, out.readNBytes(ready, 0, 6), "server started");
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(agent.subnetPrefix + "1", HOST_PORT), 5000);
                socket.setSoTimeout(5000);
                String greeting = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals("hello from the pod\n", greeting, "the published port " + HOST_PORT + " reached " + podAddress + ":8080");
            }
            assertTrue(server.waitFor(10, TimeUnit.SECONDS));
        } finally {
            server.destroyForcibly().waitFor();
        }
    }

    private AgentUnderTest.CniCall plugin(String type, Map<String, String> env, String stdin) {
        Path executable = type.equals("patu") ? AgentUnderTest.DIST.resolve("cni/patu") : PLUGINS.resolve(type);
        return AgentUnderTest.exec(executable, agent.socket, env, stdin.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * portmap's DEL removes its per-attachment chain but leaves the chains and jumps it shares between
     * attachments (CNI-HOSTPORT-*), and iptables-nft leaves the nat tables it made; bandwidth's modprobe of
     * ifb makes ifb0 and ifb1. Whatever of that was not there before the test goes.
     */
    private void removePortmapScaffolding() throws Exception {
        for (String tool : List.of("iptables", "ip6tables")) {
            String nat = run(tool + "-save", "-t", "nat");
            if (natBefore.contains("CNI-HOSTPORT-DNAT") || !nat.contains("CNI-HOSTPORT-DNAT")) {
                continue;
            }
            quiet(tool, "-t", "nat", "-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT");
            quiet(tool, "-t", "nat", "-D", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT");
            quiet(tool, "-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade",
                    "-j", "CNI-HOSTPORT-MASQ");
            for (String chain : List.of("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK")) {
                quiet(tool, "-t", "nat", "-F", chain);
                quiet(tool, "-t", "nat", "-X", chain);
            }
        }
        for (String family : List.of("ip", "ip6")) {
            String tables = run("nft", "list", "tables");
            boolean empty = run(family.equals("ip") ? "iptables" : "ip6tables", "-t", "nat", "-S").lines()
                    .allMatch(l -> l.startsWith("-P "));
            if (!natBefore.contains("table " + family + " nat") && tables.contains("table " + family + " nat") && empty) {
                quiet("nft", "delete", "table", family, "nat");
            }
        }
        for (String ifb : List.of("ifb0", "ifb1")) {
            if (!natBefore.contains(ifb)) {
                quiet("ip", "link", "del", ifb);
            }
        }
    }

    private static void quiet(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            // no input
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }
}
