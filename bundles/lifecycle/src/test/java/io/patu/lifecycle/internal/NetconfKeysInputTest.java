package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.Egress;
import io.patu.api.json.JsonTrees;

/**
 * Every plugin key the agent cannot honour is CNI error 7 naming the key, before anything is touched; keys
 * it honours or ignores pass on to the next check (here: the netns, which does not exist, error 4). Offline:
 * nothing here reaches the kernel.
 */
class NetconfKeysInputTest {
    private static final String BRIDGE = "ptnever0";

    @TempDir
    Path state;

    private CniVerbs verbs(Egress egress) throws Exception {
        return new CniVerbs(new PodPlumbing(BRIDGE, 1500, new UplinkMtu(0)), new PodRegistry(state), () -> null, List::of, () -> egress);
    }

    private static Egress masquerading(boolean ipv4, boolean ipv6) {
        return family -> family ? ipv4 : ipv6;
    }

    private static String config(String extra) {
        return "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\"," + extra + "}";
    }

    private JsonNode answer(CniVerbs verbs, String command, String config) throws Exception {
        WireResponse response = verbs.handle(CniVerbsInputTest.frame(OfflineVerbs.env(command), config));
        assertEquals(1, response.exitStatus());
        assertFalse(Files.exists(state.resolve("pods.json")), "nothing was recorded");
        return JsonTrees.read(response.stdout());
    }

    private void refused(Egress egress, String extra, String key) throws Exception {
        for (String command : List.of("ADD")) {
            JsonNode json = answer(verbs(egress), command, config(extra));
            assertEquals(CniError.INVALID_NETWORK_CONFIG, json.get("code").asInt(), extra + " -> " + json);
            assertTrue(json.get("msg").asText().contains("\"" + key + "\""), "the message names " + key + ": " + json);
        }
    }

    private void accepted(Egress egress, String extra) throws Exception {
        JsonNode json = answer(verbs(egress), "ADD", config(extra));
        // Past the key checks, ADD stops at the netns that does not exist.
        assertEquals(CniError.INVALID_ENVIRONMENT, json.get("code").asInt(), extra + " -> " + json);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"bridge\":\"cni0\"|bridge",
            "\"bridge\":\"\"|bridge",
            "\"bridge\":7|bridge",
            "\"Bridge\":\"podman0\"|Bridge",
            "\"isGateway\":false|isGateway",
            "\"isGateway\":\"true\"|isGateway",
            "\"isDefaultGateway\":false|isDefaultGateway",
            "\"forceAddress\":true|forceAddress",
            "\"hairpinMode\":true|hairpinMode",
            "\"HAIRPINMODE\":true|HAIRPINMODE",
            "\"promiscMode\":true|promiscMode",
            "\"promiscMode\":1|promiscMode",
            "\"vlan\":100|vlan",
            "\"vlan\":\"100\"|vlan",
            "\"vlanTrunk\":[{\"id\":101}]|vlanTrunk",
            "\"vlanTrunk\":{}|vlanTrunk",
            "\"enabledad\":true|enabledad",
            "\"macspoofchk\":true|macspoofchk",
            "\"disableContainerInterface\":true|disableContainerInterface",
            "\"portIsolation\":true|portIsolation",
            "\"preserveDefaultVlan\":\"no\"|preserveDefaultVlan",
            "\"ipMasqBackend\":\"iptables\"|ipMasqBackend",
            "\"subnet\":\"10.77.0.0/16\"|subnet",
            "\"capabilities\":{\"bandwidth\":true}|capabilities.bandwidth",
            "\"capabilities\":{\"ips\":\"yes\"}|capabilities.ips",
            "\"capabilities\":[\"ips\"]|capabilities",
            "\"ipMasq\":\"true\"|ipMasq",
            "\"ipMasq\":true|ipMasq",
    })
    void keysThatCannotBeHonouredWithoutEgressAreRefused(String extra, String key) throws Exception {
        refused(null, extra, key);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\"bridge\":\"ptnever0\"",
            "\"isGateway\":true",
            "\"isDefaultGateway\":true",
            "\"forceAddress\":false",
            "\"hairpinMode\":false",
            "\"promiscMode\":false",
            "\"vlan\":0",
            "\"vlanTrunk\":[]",
            "\"preserveDefaultVlan\":true",
            "\"enabledad\":false",
            "\"macspoofchk\":false",
            "\"ipMasqBackend\":\"nftables\"",
            "\"ipMasq\":false",
            "\"hairpinMode\":null",
            "\"capabilities\":{\"ips\":true,\"portMappings\":false}",
            "\"capabilities\":{\"portMappings\":true}",
            "\"dns\":{\"nameservers\":[\"10.0.0.1\"]}",
            "\"args\":{\"labels\":[]}",
            "\"runtimeConfig\":{\"ips\":[]}",
            "\"somethingElse\":{\"x\":1}",
            "\"podman_labels\":{}",
    })
    void keysThatPatuHonoursOrIgnoresPass(String extra) throws Exception {
        accepted(null, extra);
    }

    @Test
    void ipMasqMustAgreeWithTheEgressFeature() throws Exception {
        Egress v4Only = masquerading(true, false);
        accepted(v4Only, "\"ipMasq\":true");
        refused(v4Only, "\"ipMasq\":false", "ipMasq");
        refused(masquerading(false, false), "\"ipMasq\":true", "ipMasq");
        accepted(masquerading(false, false), "\"ipMasq\":false");
        // The families of the network's own ranges decide.
        String v6Range = "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"fd00:7::/64\"}]]}";
        refused(v4Only, "\"ipMasq\":true," + v6Range, "ipMasq");
        accepted(v4Only, "\"ipMasq\":false," + v6Range);
        String dual = "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.7.0.0/24\"}],[{\"subnet\":\"fd00:7::/64\"}]]}";
        refused(v4Only, "\"ipMasq\":true," + dual, "ipMasq");
        accepted(masquerading(true, true), "\"ipMasq\":true," + dual);
        accepted(masquerading(true, true), "\"IPMasq\":true");
        refused(masquerading(true, true), "\"IPMasq\":false", "IPMasq");
    }

    @Test
    void delIsNeverRefusedForAKey() throws Exception {
        WireResponse response = verbs(null).handle(CniVerbsInputTest.frame(OfflineVerbs.env("DEL"), config("\"hairpinMode\":true")));
        assertEquals(0, response.exitStatus(), new String(response.stdout()));
    }
}
