package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
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

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.json.JsonTrees;
import io.patu.api.CniError;

/**
 * Bad input is answered with a CNI error in the spec's format and changes no state. Everything here is
 * rejected before the kernel is touched, so these run without root.
 */
class CniVerbsInputTest {
    private static final String CONFIG = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\"}";

    @TempDir
    Path state;
    private CniVerbs verbs;

    @BeforeEach
    void setUp() throws Exception {
        verbs = OfflineVerbs.create(state);
    }

    private static Map<String, String> env(String command) {
        return OfflineVerbs.env(command);
    }

    static byte[] frame(Map<String, String> env, String stdin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(WireRequest.MAGIC);
        env.forEach((k, v) -> {
            out.writeBytes((k + "=" + v).getBytes(StandardCharsets.UTF_8));
            out.write(0);
        });
        out.write(0);
        byte[] body = stdin.getBytes(StandardCharsets.UTF_8);
        out.writeBytes((body.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        return out.toByteArray();
    }

    private JsonNode error(WireResponse response, int expectedCode) throws Exception {
        assertEquals(1, response.exitStatus(), "errors exit non-zero");
        JsonNode json = JsonTrees.read(response.stdout());
        assertEquals(expectedCode, json.get("code").asInt(), json.toString());
        assertFalse(json.get("msg").asText().isBlank());
        assertTrue(json.has("cniVersion"));
        // No state: the registry was never written.
        assertFalse(Files.exists(state.resolve("pods.json")));
        return json;
    }

    @Test
    void versionListsWhatThePluginSpeaks() throws Exception {
        WireResponse response = verbs.handle(frame(env("VERSION"), "{\"cniVersion\":\"1.0.0\"}"));
        assertEquals(0, response.exitStatus());
        JsonNode json = JsonTrees.read(response.stdout());
        assertEquals("1.0.0", json.get("cniVersion").asText());
        assertEquals("[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]", json.get("supportedVersions").toString());
    }

    @Test
    void notOurProtocol() throws Exception {
        error(verbs.handle("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), CniError.DECODE_FAILURE);
        error(verbs.handle(new byte[0]), CniError.DECODE_FAILURE);
        error(verbs.handle("PATU1\0CNI_COMMAND=ADD".getBytes(StandardCharsets.US_ASCII)), CniError.DECODE_FAILURE);
        error(verbs.handle("PATU1\0CNI_COMMAND=ADD\0\0x\n{}".getBytes(StandardCharsets.US_ASCII)), CniError.DECODE_FAILURE);
        error(verbs.handle("PATU1\0CNI_COMMAND=ADD\0\05\n{}".getBytes(StandardCharsets.US_ASCII)), CniError.DECODE_FAILURE);
        error(verbs.handle("PATU1\0CNI_COMMAND=ADD\0\099999999\n".getBytes(StandardCharsets.US_ASCII)), CniError.DECODE_FAILURE);
    }

    @Test
    void brokenJson() throws Exception {
        JsonNode json = error(verbs.handle(frame(env("ADD"), "{\"cniVersion\": ")), CniError.DECODE_FAILURE);
        assertTrue(json.get("msg").asText().contains("not valid JSON"));
        error(verbs.handle(frame(env("ADD"), "[1,2]")), CniError.DECODE_FAILURE);
        error(verbs.handle(frame(env("ADD"), CONFIG + " }}garbage")), CniError.DECODE_FAILURE);
        error(verbs.handle(frame(env("ADD"), "[".repeat(10_000))), CniError.DECODE_FAILURE);
    }

    @Test
    void unknownVersionIsIncompatible() throws Exception {
        JsonNode json = error(verbs.handle(frame(env("ADD"),
                "{\"cniVersion\":\"9.9.9\",\"name\":\"net\",\"type\":\"patu\"}")), CniError.INCOMPATIBLE_VERSION);
        assertTrue(json.get("msg").asText().contains("9.9.9"));
    }

    @Test
    void missingNameOrTypeIsInvalidConfig() throws Exception {
        error(verbs.handle(frame(env("ADD"), "{\"cniVersion\":\"1.0.0\",\"type\":\"patu\"}")), CniError.INVALID_NETWORK_CONFIG);
        error(verbs.handle(frame(env("ADD"), "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}")), CniError.INVALID_NETWORK_CONFIG);
        error(verbs.handle(frame(env("ADD"), "{\"cniVersion\":1,\"name\":\"n\",\"type\":\"patu\"}")), CniError.INVALID_NETWORK_CONFIG);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "CNI_COMMAND|",
            "CNI_COMMAND|FROB",
            "CNI_CONTAINERID|",
            "CNI_CONTAINERID|../../etc/passwd",
            "CNI_CONTAINERID|-leading-dash",
            "CNI_CONTAINERID|id with space",
            "CNI_IFNAME|",
            "CNI_IFNAME|averyveryverylongname",
            "CNI_IFNAME|eth/0",
            "CNI_IFNAME|..",
            "CNI_IFNAME|eth0:1",
            "CNI_NETNS|",
            "CNI_NETNS|relative/path",
    })
    void invalidEnvironment(String variable, String value) throws Exception {
        Map<String, String> env = env("ADD");
        if (value == null) {
            env.remove(variable);
        } else {
            env.put(variable, value);
        }
        error(verbs.handle(frame(env, CONFIG)), CniError.INVALID_ENVIRONMENT);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ADD|-5", "ADD|0", "ADD|67", "ADD|65536", "ADD|4294967363", "ADD|9000.5", "ADD|9e3", "ADD|\"9000\"",
            "ADD|true", "ADD|[1500]", "ADD|{}", "CHECK|-5", "CHECK|\"1500\"",
    })
    void conflistMtuOutsideSixtyEightToSixtyFiveThousandIsInvalidConfig(String command, String mtu) throws Exception {
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\",\"mtu\":" + mtu + "}";
        JsonNode json = error(verbs.handle(frame(env(command), config)), CniError.INVALID_NETWORK_CONFIG);
        assertTrue(json.get("msg").asText().contains("\"mtu\""), json.toString());
    }

    @Test
    void conflistMtuInRangePassesValidation() throws Exception {
        for (String mtu : List.of("68", "1500", "65535", "null")) {
            String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\",\"mtu\":" + mtu + "}";
            // The offline verbs have no namespace: a valid mtu gets as far as the CNI_NETNS check.
            error(verbs.handle(frame(env("ADD"), config)), CniError.INVALID_ENVIRONMENT);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "ADD|;;==;K8S_POD_NAME", "ADD|K8S_POD_NAME", "ADD|K8S_POD_NAME=a=b", "ADD|FOO=bar",
            "ADD|IgnoreUnknown=yes;K8S_POD_NAME=a", "ADD|IgnoreUnknown=1;;K8S_POD_NAME=a", "DEL|;;==;K8S_POD_NAME",
            "CHECK|=",
    })
    void malformedCniArgs(String command, String args) throws Exception {
        Map<String, String> env = env(command);
        env.put("CNI_ARGS", args);
        JsonNode json = error(verbs.handle(frame(env, CONFIG)), CniError.INVALID_ENVIRONMENT);
        assertTrue(json.get("msg").asText().startsWith("CNI_ARGS"), json.toString());
    }

    @Test
    void controlCharactersAreQuotedInMessages() throws Exception {
        Map<String, String> env = env("ADD");
        env.put("CNI_CONTAINERID", "x\n{\"code\":0}");
        JsonNode json = error(verbs.handle(frame(env, CONFIG)), CniError.INVALID_ENVIRONMENT);
        assertTrue(json.get("msg").asText().contains("\\x0a"), json.toString());
    }

    @Test
    void netnsThatIsNotANamespace() throws Exception {
        Map<String, String> env = env("ADD");
        env.put("CNI_NETNS", "/etc/hostname");
        error(verbs.handle(frame(env, CONFIG)), CniError.INVALID_ENVIRONMENT);
        env.put("CNI_NETNS", "/proc/self/../../etc");
        error(verbs.handle(frame(env, CONFIG)), CniError.INVALID_ENVIRONMENT);
    }

    @Test
    void statusWithoutIpamIsNotAvailable() throws Exception {
        Map<String, String> env = Map.of("CNI_COMMAND", "STATUS");
        JsonNode json = error(verbs.handle(frame(env, "{\"cniVersion\":\"1.1.0\",\"name\":\"net\",\"type\":\"patu\"}")),
                CniError.NOT_AVAILABLE);
        assertTrue(json.get("msg").asText().contains("ipam"), json.toString());
        assertEquals("1.1.0", json.get("cniVersion").asText());
    }

    @Test
    void statusNeedsVersionOneOneZero() throws Exception {
        error(verbs.handle(frame(Map.of("CNI_COMMAND", "STATUS"), CONFIG)), CniError.INCOMPATIBLE_VERSION);
    }

    @Test
    void checkOfAnUnknownPodSaysSo() throws Exception {
        error(verbs.handle(frame(env("CHECK"), CONFIG)), CniError.UNKNOWN_CONTAINER);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"portMappings\":{}}|runtimeConfig.portMappings",
            "{\"portMappings\":[5]}|runtimeConfig.portMappings[0]",
            "{\"portMappings\":[{\"containerPort\":80}]}|runtimeConfig.portMappings[0].hostPort",
            "{\"portMappings\":[{\"hostPort\":0,\"containerPort\":80}]}|runtimeConfig.portMappings[0].hostPort",
            "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":65536}]}|runtimeConfig.portMappings[0].containerPort",
            "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":\"80\"}]}|runtimeConfig.portMappings[0].containerPort",
            "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"sctp\"}]}|runtimeConfig.portMappings[0].protocol",
            "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"hostIP\":\"node1\"}]}|runtimeConfig.portMappings[0].hostIP",
            "{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80},{\"hostPort\":8080,\"containerPort\":81,\"protocol\":\"TCP\"}]}|runtimeConfig.portMappings[1]",
    })
    void badPortMappingsAreRefused(String runtimeConfig, String key) throws Exception {
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\",\"runtimeConfig\":" + runtimeConfig + "}";
        JsonNode json = error(verbs.handle(frame(env("ADD"), config)), CniError.INVALID_NETWORK_CONFIG);
        assertTrue(json.get("msg").asText().contains("\"" + key), json.toString());
    }

    @Test
    void portMappingsWithoutTheXdpFeatureAreRefused() throws Exception {
        // No pod listener serves port mappings here, as in the minimal profile: the ADD must not pretend.
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\",\"capabilities\":{\"portMappings\":true},"
                + "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"udp\",\"hostIP\":\"\"}]}}";
        JsonNode json = error(verbs.handle(frame(env("ADD"), config)), CniError.NOT_AVAILABLE);
        assertTrue(json.get("msg").asText().contains("8080->80/udp"), json.toString());
        assertTrue(json.get("details").asText().contains("portmap"), json.toString());
    }
}
