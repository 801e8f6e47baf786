package io.patu.lifecycle.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.Egress;
import io.patu.api.PatuException;

/**
 * The network configuration means what it says: every plugin key of the reference {@code bridge} plugin that
 * this agent cannot honour for this network is refused (CNI error 7, naming the key), before anything is
 * touched. Patu always builds one bridge (the agent's {@code bridgeName}) holding the gateway addresses,
 * gives pods a default route through it, turns duplicate address detection off, uses no VLAN, hairpin or
 * promiscuous mode, and masquerades exactly as its egress feature is configured; a key asking for anything
 * else is an error, a key asking for what Patu does anyway is accepted.
 *
 * <p>Keys this class does not know are ignored, as the reference plugins ignore them (Go's JSON decoding
 * drops unknown fields; the CNI spec allows either). Like Go's decoding, the known keys match whatever their
 * case ({@code IPMasq} is {@code ipMasq}), so a differently-cased key is checked rather than ignored. The
 * whole list, with what each means here, is in docs/netconf.md.
 */
final class NetconfKeys {
    private static final Logger LOG = Logger.getLogger(NetconfKeys.class.getName());

    /** The reference bridge plugin's keys that Patu checks, by their spelling in the reference. */
    private static final List<String> CHECKED = List.of("bridge", "isGateway", "isDefaultGateway", "forceAddress",
            "ipMasq", "ipMasqBackend", "hairpinMode", "promiscMode", "vlan", "vlanTrunk", "preserveDefaultVlan",
            "enabledad", "macspoofchk", "disableContainerInterface", "portIsolation", "subnet", "capabilities");
    /**
     * Keys other parts of the agent read ({@code cniVersion}, {@code name}, {@code type}, {@code ipam},
     * {@code mtu}, {@code runtimeConfig}, {@code args}, {@code prevResult}) or that mean nothing to Patu
     * ({@code dns}, which the reference bridge plugin does not read either): accepted as they are.
     */
    static final Set<String> ELSEWHERE = Set.of("cniversion", "cniversions", "name", "type", "ipam", "mtu",
            "runtimeconfig", "args", "prevresult", "dns");
    /** Capabilities whose runtimeConfig this agent reads. */
    static final Set<String> CAPABILITIES = Set.of("ips", "portMappings");

    private final String bridgeName;
    private final Supplier<Egress> egress;

    NetconfKeys(String bridgeName, Supplier<Egress> egress) {
        this.bridgeName = bridgeName;
        this.egress = egress;
    }

    /** Throws {@link CniError#INVALID_NETWORK_CONFIG} naming the first key this agent cannot honour. */
    void check(NetworkConfig config) {
        JsonNode raw = config.raw();
        List<String> ignored = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> fields = raw.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            String known = CHECKED.stream().filter(k -> k.equalsIgnoreCase(key)).findFirst().orElse(null);
            if (known != null) {
                checkKey(known, key, field.getValue(), config);
            } else if (!ELSEWHERE.contains(key.toLowerCase(Locale.ROOT))) {
                ignored.add(key);
            }
        }
        if (!ignored.isEmpty()) {
            LOG.fine(() -> "network " + config.name() + ": keys unknown to Patu ignored: " + ignored);
        }
    }

    private void checkKey(String known, String key, JsonNode value, NetworkConfig config) {
        if (value.isNull()) {
            return; // as absent, the way Go decodes null into a field
        }
        String name = CniRequest.printable(key);
        switch (known) {
            case "bridge" -> {
                String bridge = text(name, value);
                if (!bridge.equals(bridgeName)) {
                    throw refused(name, "\"" + CniRequest.printable(bridge) + "\" is not the bridge this agent serves (\""
                            + bridgeName + "\", io.patu.lifecycle bridgeName)", "leave the key out or set it to \"" + bridgeName + "\"");
                }
            }
            case "isGateway" -> mustNotBe(name, value, false, "the bridge always holds the pods' gateway addresses");
            case "isDefaultGateway" -> mustNotBe(name, value, false, "pods always get a default route through the bridge");
            case "forceAddress" -> mustNotBe(name, value, true, "the bridge's existing addresses are never replaced");
            case "hairpinMode" -> mustNotBe(name, value, true, "the pods' bridge ports do not run in hairpin mode");
            case "promiscMode" -> mustNotBe(name, value, true, "the bridge is not put in promiscuous mode");
            case "enabledad" -> mustNotBe(name, value, true, "duplicate address detection is off on pod interfaces (addresses are unique by allocation)");
            case "macspoofchk" -> mustNotBe(name, value, true, "no MAC spoofing filter is installed");
            case "disableContainerInterface" -> mustNotBe(name, value, true, "the pod's interface is always brought up");
            case "portIsolation" -> mustNotBe(name, value, true, "bridge ports are not isolated from each other");
            case "preserveDefaultVlan" -> bool(name, value);
            case "vlan" -> {
                if (!value.isIntegralNumber()) {
                    throw refused(name, "must be an integer", null);
                }
                if (value.asLong() != 0) {
                    throw refused(name, value.asText() + " asks for a VLAN, and Patu's bridge carries none", "leave the key out");
                }
            }
            case "vlanTrunk" -> {
                if (!value.isArray()) {
                    throw refused(name, "must be a list", null);
                }
                if (!value.isEmpty()) {
                    throw refused(name, "asks for VLAN trunks, and Patu's bridge carries none", "leave the key out");
                }
            }
            case "ipMasqBackend" -> {
                String backend = text(name, value);
                if (!backend.equals("nftables")) {
                    throw refused(name, "\"" + CniRequest.printable(backend) + "\": Patu masquerades with nftables only",
                            "leave the key out or set it to \"nftables\"");
                }
            }
            case "subnet" -> throw refused(name, "is not read at the top level of the plugin configuration: pod addresses "
                    + "come from the \"ipam\" object (host-local format, e.g. \"ipam\": {\"subnet\": ...}) or from the agent's "
                    + "io.patu.ipam configuration", "move it into \"ipam\"");
            case "capabilities" -> capabilities(name, value);
            case "ipMasq" -> ipMasq(name, bool(name, value), config);
            default -> throw new IllegalStateException("no rule for " + known);
        }
    }

    private static void capabilities(String name, JsonNode value) {
        if (!value.isObject()) {
            throw refused(name, "must be an object of capability names and booleans", null);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> capability = it.next();
            String inner = name + "." + CniRequest.printable(capability.getKey());
            if (bool(inner, capability.getValue()) && !CAPABILITIES.contains(capability.getKey())) {
                throw refused(inner, "the runtime would pass this capability's runtimeConfig to Patu, which does not read it "
                        + "(Patu reads: " + String.join(", ", CAPABILITIES) + ")", "chain a plugin that provides it "
                        + "and declare the capability there");
            }
        }
    }

    private void ipMasq(String name, boolean wanted, NetworkConfig config) {
        Egress running = egress.get();
        if (running == null) {
            if (wanted) {
                throw refused(name, "true, but the egress feature is not running, so nothing is masqueraded",
                        "start it (patu:enable egress, or a profile that has it) or leave the key out");
            }
            return;
        }
        for (boolean ipv4 : families(config)) {
            if (running.masquerades(ipv4) != wanted) {
                String family = ipv4 ? "IPv4" : "IPv6";
                throw refused(name, wanted + ", but this agent " + (wanted ? "does not masquerade " : "masquerades ") + family
                        + " (" + Egress.PID + " masquerade" + (ipv4 ? "Ipv4" : "Ipv6") + " = " + !wanted + ")",
                        "leave the key out to take the agent's setting, or change that setting");
            }
        }
    }

    /**
     * The address families of the network's pods, when the configuration says: those of its {@code ipam}
     * ranges. Without an ipam object the agent's own ranges apply, which this bundle does not see, and only
     * IPv4 is checked (docs/netconf.md).
     */
    private static Set<Boolean> families(NetworkConfig config) {
        Set<Boolean> families = new LinkedHashSet<>();
        JsonNode ipam = config.raw().path("ipam");
        collectSubnets(ipam.path("subnet"), families);
        for (JsonNode set : ipam.path("ranges")) {
            for (JsonNode range : set) {
                collectSubnets(range.path("subnet"), families);
            }
        }
        if (families.isEmpty()) {
            families.add(true);
        }
        return families;
    }

    private static void collectSubnets(JsonNode subnet, Set<Boolean> families) {
        if (subnet.isTextual() && !subnet.asText().isBlank()) {
            families.add(!subnet.asText().contains(":"));
        }
    }

    private static void mustNotBe(String name, JsonNode value, boolean refused, String because) {
        if (bool(name, value) == refused) {
            throw refused(name, refused + " cannot be honoured: " + because, "leave the key out or set it to " + !refused);
        }
    }

    private static boolean bool(String name, JsonNode value) {
        if (!value.isBoolean()) {
            throw refused(name, "must be true or false", null);
        }
        return value.asBoolean();
    }

    private static String text(String name, JsonNode value) {
        if (!value.isTextual()) {
            throw refused(name, "must be a string", null);
        }
        return value.asText();
    }

    private static PatuException refused(String key, String problem, String remedy) {
        return new PatuException(CniError.INVALID_NETWORK_CONFIG, "network configuration key \"" + key + "\": " + problem,
                remedy, null);
    }
}
