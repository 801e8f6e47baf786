package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.json.JsonTrees;
import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodRoute;

/**
 * Spec versions: what VERSION lists, how a result is shaped for each cniVersion, which verbs each version
 * has, and the cniVersions negotiation of spec 1.1.0. No kernel involved.
 */
class CniVersionsTest {
    @TempDir
    Path state;
    private CniVerbs verbs;

    @BeforeEach
    void setUp() throws Exception {
        verbs = OfflineVerbs.create(state);
    }

    static Pod pod() {
        return new Pod(new PodId("c1", "eth0"), "/run/netns/p1", "patu0123456789", 7, "0a:58:0a:4d:00:05",
                List.of(new PodAddress(InetAddress.ofLiteral("10.77.0.5"), 16, InetAddress.ofLiteral("10.77.0.1"),
                                List.of(new PodRoute(InetAddress.ofLiteral("192.168.0.0"), 16, null))),
                        new PodAddress(InetAddress.ofLiteral("fd00::5"), 64, InetAddress.ofLiteral("fd00::1"))));
    }

    private static Map<String, String> env(String command) {
        return OfflineVerbs.env(command);
    }

    private JsonNode error(WireResponse response, int code) throws Exception {
        assertEquals(1, response.exitStatus());
        JsonNode json = JsonTrees.read(response.stdout());
        assertEquals(code, json.get("code").asInt(), json.toString());
        assertFalse(Files.exists(state.resolve("pods.json")), "no state written");
        return json;
    }

    @Test
    void versionListsEveryVersionWithRichResults() throws Exception {
        WireResponse response = verbs.handle(CniVerbsInputTest.frame(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"0.4.0\"}"));
        assertEquals(0, response.exitStatus());
        JsonNode json = JsonTrees.read(response.stdout());
        assertEquals("0.4.0", json.get("cniVersion").asText());
        assertEquals("[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]", json.get("supportedVersions").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0"})
    void resultsBeforeOneZeroCarryIpVersions(String version) throws Exception {
        JsonNode result = JsonTrees.read(CniResults.addResult(version, new PodPlumbing.Wired(pod(), "0a:00:00:00:00:01", 1500, 1500, 1500)));
        assertEquals(version, result.get("cniVersion").asText());
        assertEquals("4", result.get("ips").get(0).get("version").asText());
        assertEquals("6", result.get("ips").get(1).get("version").asText());
        assertCommonShape(result);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.0.0", "1.1.0"})
    void resultsFromOneZeroHaveNoIpVersions(String version) throws Exception {
        JsonNode result = JsonTrees.read(CniResults.addResult(version, new PodPlumbing.Wired(pod(), "0a:00:00:00:00:01", 1500, 1500, 1500)));
        assertEquals(version, result.get("cniVersion").asText());
        for (JsonNode ip : result.get("ips")) {
            assertFalse(ip.has("version"), ip.toString());
        }
        assertCommonShape(result);
    }

    @Test
    void resultsOfOneOneZeroCarryInterfaceAndRouteMtus() throws Exception {
        JsonNode result = JsonTrees.read(CniResults.addResult("1.1.0",
                new PodPlumbing.Wired(pod(), "0a:00:00:00:00:01", 65535, 1500, 1280)));
        for (JsonNode entry : result.get("interfaces")) {
            assertEquals(65535, entry.get("mtu").asInt(), entry.toString());
        }
        for (JsonNode route : result.get("routes")) {
            String dst = route.get("dst").asText();
            if (dst.equals("0.0.0.0/0") || dst.equals("::/0")) {
                assertEquals(dst.contains(":") ? 1280 : 1500, route.get("mtu").asInt(), route.toString());
            }
        }
        JsonNode older = JsonTrees.read(CniResults.addResult("1.0.0",
                new PodPlumbing.Wired(pod(), "0a:00:00:00:00:01", 65535, 1500, 1280)));
        assertFalse(older.get("interfaces").get(1).has("mtu"), "1.0.0 has no interface mtu");
        assertFalse(older.get("routes").get(0).has("mtu"));
    }

    /** What chained plugins read: the host veth without sandbox, the pod interface with it, ips naming index 1. */
    private static void assertCommonShape(JsonNode result) {
        JsonNode interfaces = result.get("interfaces");
        assertEquals(2, interfaces.size());
        assertEquals("patu0123456789", interfaces.get(0).get("name").asText());
        assertFalse(interfaces.get(0).has("sandbox"));
        assertEquals("eth0", interfaces.get(1).get("name").asText());
        assertEquals("/run/netns/p1", interfaces.get(1).get("sandbox").asText());
        assertEquals("0a:58:0a:4d:00:05", interfaces.get(1).get("mac").asText());
        assertEquals("10.77.0.5/16", result.get("ips").get(0).get("address").asText());
        assertEquals("10.77.0.1", result.get("ips").get(0).get("gateway").asText());
        assertEquals("fd00::5/64", result.get("ips").get(1).get("address").asText());
        for (JsonNode ip : result.get("ips")) {
            assertEquals(1, ip.get("interface").asInt());
        }
        assertEquals("[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.77.0.1\"},{\"dst\":\"192.168.0.0/16\",\"gw\":\"10.77.0.1\"},"
                + "{\"dst\":\"::/0\",\"gw\":\"fd00::1\"}]", result.get("routes").toString());
        assertTrue(result.get("dns").isObject());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // cniVersion | cniVersions                      | negotiated
            "1.0.0       | [\"1.0.0\",\"1.1.0\"]              | 1.1.0",
            "            | [\"0.4.0\",\"1.0.0\",\"9.9.9\"]    | 1.0.0",
            "1.1.0       | [\"0.3.1\"]                        | 0.3.1",
            "9.9.9       | [\"0.4.0\",\"2.0.0\"]              | 0.4.0",
            "1.0.0       |                                    | 1.0.0",
    })
    void cniVersionsPicksTheHighestCommonVersion(String cniVersion, String cniVersions, String negotiated) {
        StringBuilder json = new StringBuilder("{\"name\":\"n\",\"type\":\"patu\"");
        if (cniVersion != null) {
            json.append(",\"cniVersion\":\"").append(cniVersion).append('"');
        }
        if (cniVersions != null) {
            json.append(",\"cniVersions\":").append(cniVersions);
        }
        json.append('}');
        NetworkConfig config = NetworkConfig.parse(json.toString().getBytes(StandardCharsets.UTF_8), false);
        assertEquals(negotiated, config.cniVersion());
    }

    @Test
    void cniVersionsWithNothingInCommonIsIncompatible() throws Exception {
        JsonNode json = error(verbs.handle(CniVerbsInputTest.frame(env("ADD"),
                "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"2.0.0\",\"0.2.0\"],\"name\":\"n\",\"type\":\"patu\"}")),
                CniError.INCOMPATIBLE_VERSION);
        assertTrue(json.get("msg").asText().contains("2.0.0"), json.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"1.0.0\"", "[1]", "{}"})
    void malformedCniVersionsIsInvalidConfig(String cniVersions) throws Exception {
        error(verbs.handle(CniVerbsInputTest.frame(env("ADD"),
                "{\"cniVersion\":\"1.0.0\",\"cniVersions\":" + cniVersions + ",\"name\":\"n\",\"type\":\"patu\"}")),
                CniError.INVALID_NETWORK_CONFIG);
    }

    @Test
    void negotiatedVersionShapesTheAnswer() throws Exception {
        // STATUS needs 1.1.0: cniVersion says 1.0.0, cniVersions allows 1.1.0; the error (no ipam) is in 1.1.0.
        JsonNode json = error(verbs.handle(CniVerbsInputTest.frame(Map.of("CNI_COMMAND", "STATUS"),
                "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"1.1.0\"],\"name\":\"n\",\"type\":\"patu\"}")),
                CniError.NOT_AVAILABLE);
        assertEquals("1.1.0", json.get("cniVersion").asText());
    }

    @ParameterizedTest
    @CsvSource({"CHECK,0.3.0", "CHECK,0.3.1", "GC,1.0.0", "GC,0.4.0", "STATUS,1.0.0", "STATUS,0.3.1"})
    void verbsOlderVersionsDoNotHaveAreIncompatible(String verb, String version) throws Exception {
        String config = "{\"cniVersion\":\"" + version + "\",\"name\":\"n\",\"type\":\"patu\",\"cni.dev/valid-attachments\":[]}";
        JsonNode json = error(verbs.handle(CniVerbsInputTest.frame(env(verb), config)), CniError.INCOMPATIBLE_VERSION);
        assertTrue(json.get("msg").asText().contains(verb), json.toString());
        assertEquals(version, json.get("cniVersion").asText(), "the error speaks the request's version");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            ",\"cni.dev/valid-attachments\":null",
            ",\"cni.dev/valid-attachments\":{}",
            ",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\"}]",
            ",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":7}]",
            ",\"cni.dev/valid-attachments\":[\"a/eth0\"]",
    })
    void gcWithoutAValidListIsRefusedAndRemovesNothing(String list) throws Exception {
        JsonNode json = error(verbs.handle(CniVerbsInputTest.frame(Map.of("CNI_COMMAND", "GC"),
                "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"patu\"" + list + "}")), CniError.INVALID_NETWORK_CONFIG);
        assertTrue(json.get("msg").asText().contains("cni.dev/valid-attachments"), json.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\"prevResult\":[]",
            "\"prevResult\":\"x\"",
            "\"ipam\":\"host-local\"",
            "\"runtimeConfig\":{\"ips\":\"10.0.0.1\"}",
            "\"runtimeConfig\":{\"ips\":[1]}",
            "\"args\":{\"cni\":{\"ips\":{}}}",
    })
    void malformedChainingAndIpamFieldsAreInvalidConfig(String field) throws Exception {
        error(verbs.handle(CniVerbsInputTest.frame(env("ADD"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\"," + field + "}")), CniError.INVALID_NETWORK_CONFIG);
    }

    @Test
    void ipamRequestComesFromTheConfig() {
        NetworkConfig config = NetworkConfig.parse(("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\","
                + "\"ipam\":{\"type\":\"patu\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}]]},"
                + "\"runtimeConfig\":{\"ips\":[\"10.9.0.7/24\"]},\"args\":{\"cni\":{\"ips\":[\"10.9.0.8\"]}}}")
                .getBytes(StandardCharsets.UTF_8), false);
        assertEquals("{\"type\":\"patu\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}]]}", config.ipamJson());
        assertEquals(List.of("10.9.0.7/24"), config.requestedIps(), "runtimeConfig wins over args");

        NetworkConfig plain = NetworkConfig.parse(("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\","
                + "\"ipam\":{\"type\":\"patu\"},\"args\":{\"cni\":{\"ips\":[\"10.9.0.8\"]}}}").getBytes(StandardCharsets.UTF_8), false);
        assertEquals(null, plain.ipamJson(), "an ipam object naming only a type asks for the agent's own configuration");
        assertEquals(List.of("10.9.0.8"), plain.requestedIps());
    }

    @Test
    void delAcceptsAPrevResult() {
        // Parsing and validation only (DEL itself touches the kernel): a chained DEL carries prevResult.
        CniRequest request = CniRequest.from(WireRequest.decode(CniVerbsInputTest.frame(env("DEL"),
                "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"patu\",\"prevResult\":"
                        + new String(CniResults.addResult("0.4.0", new PodPlumbing.Wired(pod(), "0a:00:00:00:00:01", 1500, 1500, 1500)), StandardCharsets.UTF_8) + "}")));
        assertEquals(CniCommand.DEL, request.command());
        assertTrue(request.config().prevResult().has("ips"));
        PatuException e = assertThrows(PatuException.class, () -> NetworkConfig.parse(
                "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"patu\"}".getBytes(StandardCharsets.UTF_8), false));
        assertEquals(CniError.INCOMPATIBLE_VERSION, e.code(), "0.2.0 results have no interfaces: not spoken");
    }
}
