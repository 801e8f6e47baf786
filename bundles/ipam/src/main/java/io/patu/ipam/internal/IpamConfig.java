package io.patu.ipam.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodRoute;
import io.patu.api.json.JsonTrees;

/**
 * The address plan of an attachment, in host-local's terms: range sets (one pod address each) and the
 * extra routes pods get. Read from a network configuration's {@code ipam} object or from the agent's own
 * configuration; validated as a whole before anything is allocated from it.
 *
 * <p>Accepted {@code ipam} members: {@code type} (absent, {@code host-local} or {@code patu}),
 * {@code ranges} (a list of range sets, each a list of {@code {subnet, rangeStart?, rangeEnd?, gateway?}}),
 * the legacy single range {@code subnet}/{@code rangeStart}/{@code rangeEnd}/{@code gateway} (a range set
 * of its own, before those of {@code ranges}), and {@code routes} ({@code [{dst, gw?}]}). Other members
 * ({@code dataDir}, {@code resolvConf}, ...) are ignored: leases always live in the agent's state directory.
 * An object with neither {@code ranges} nor {@code subnet} takes the agent's range sets.
 */
record IpamConfig(List<RangeSet> rangeSets, List<PodRoute> routes) {
    private static final List<String> TYPES = List.of("host-local", "patu");

    IpamConfig {
        rangeSets = List.copyOf(rangeSets);
        routes = List.copyOf(routes);
        if (rangeSets.isEmpty()) {
            throw new IllegalArgumentException("no range set: nothing to allocate from");
        }
        List<AddressRange> all = rangeSets.stream().flatMap(s -> s.ranges().stream()).toList();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                if (all.get(i).overlaps(all.get(j))) {
                    throw new IllegalArgumentException("ranges overlap: " + all.get(i) + " and " + all.get(j));
                }
            }
        }
        for (PodRoute route : routes) {
            if (rangeSets.stream().noneMatch(s -> s.isIpv4() == route.isIpv4())) {
                throw new IllegalArgumentException("route to " + route.cidr() + " is " + (route.isIpv4() ? "IPv4" : "IPv6")
                        + " but no range set gives an address of that family");
            }
        }
    }

    /** The agent's own plan: one range set of one range, no extra routes. */
    static IpamConfig single(String subnet, String gateway) {
        return new IpamConfig(List.of(new RangeSet(List.of(AddressRange.of(subnet, null, null, gateway)))), List.of());
    }

    /**
     * The plan of a network configuration's {@code ipam} object.
     *
     * @param fallback the range sets used when the object names none
     * @throws PatuException {@link CniError#INVALID_NETWORK_CONFIG} saying what is wrong
     */
    static IpamConfig parse(String ipamJson, IpamConfig fallback) {
        JsonNode ipam;
        try {
            ipam = JsonTrees.read(ipamJson.getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw invalid("the ipam object is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid("the ipam object is not valid JSON: " + e.getMessage());
        }
        try {
            return parse(ipam, fallback);
        } catch (IllegalArgumentException e) {
            throw invalid("ipam: " + e.getMessage());
        }
    }

    private static IpamConfig parse(JsonNode ipam, IpamConfig fallback) {
        if (ipam == null || !ipam.isObject()) {
            throw new IllegalArgumentException("must be a JSON object");
        }
        String type = text(ipam, "type", "ipam");
        if (type != null && !TYPES.contains(type)) {
            throw new IllegalArgumentException("type '" + type + "' is not one Patu's address allocator serves (use "
                    + String.join(" or ", TYPES) + ", or leave it out)");
        }
        List<RangeSet> sets = new ArrayList<>();
        String subnet = text(ipam, "subnet", "ipam");
        if (subnet != null) {
            sets.add(new RangeSet(List.of(range(ipam, "ipam"))));
        } else {
            for (String field : List.of("rangeStart", "rangeEnd", "gateway")) {
                if (ipam.has(field)) {
                    throw new IllegalArgumentException(field + " is given without a subnet");
                }
            }
        }
        JsonNode ranges = ipam.get("ranges");
        if (ranges != null && !ranges.isNull()) {
            if (!ranges.isArray()) {
                throw new IllegalArgumentException("ranges must be a list of range sets");
            }
            for (int i = 0; i < ranges.size(); i++) {
                JsonNode set = ranges.get(i);
                String where = "ranges[" + i + "]";
                if (!set.isArray() || set.isEmpty()) {
                    throw new IllegalArgumentException(where + " must be a non-empty list of ranges");
                }
                List<AddressRange> members = new ArrayList<>();
                for (int j = 0; j < set.size(); j++) {
                    members.add(range(set.get(j), where + "[" + j + "]"));
                }
                try {
                    sets.add(new RangeSet(members));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage());
                }
            }
        }
        if (sets.isEmpty()) {
            sets.addAll(fallback.rangeSets());
        }
        return new IpamConfig(sets, routes(ipam.get("routes")));
    }

    private static AddressRange range(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + " must be an object with a subnet");
        }
        try {
            return AddressRange.of(text(node, "subnet", where), text(node, "rangeStart", where),
                    text(node, "rangeEnd", where), text(node, "gateway", where));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static List<PodRoute> routes(JsonNode routes) {
        if (routes == null || routes.isNull()) {
            return List.of();
        }
        if (!routes.isArray()) {
            throw new IllegalArgumentException("routes must be a list of {dst, gw}");
        }
        List<PodRoute> out = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            String where = "routes[" + i + "]";
            JsonNode route = routes.get(i);
            if (!route.isObject()) {
                throw new IllegalArgumentException(where + " must be an object {dst, gw}");
            }
            String dst = text(route, "dst", where);
            if (dst == null) {
                throw new IllegalArgumentException(where + " has no dst");
            }
            String gw = text(route, "gw", where);
            try {
                Subnet destination = Subnet.parseMasked(dst.strip());
                InetAddress gateway = gw == null ? null : Subnet.parseLiteral(gw.strip());
                PodRoute parsed = new PodRoute(destination.network(), destination.prefixLength(), gateway);
                if (!out.contains(parsed)) {
                    out.add(parsed);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** A string member, or null if absent; anything but a string is refused. */
    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException(where + "." + field + " must be a string");
        }
        return value.asText();
    }

    static PatuException invalid(String message) {
        return new PatuException(CniError.INVALID_NETWORK_CONFIG, message);
    }

    /** The routes of one family, for the first pod address of that family. */
    List<PodRoute> routesOf(boolean ipv4) {
        return routes.stream().filter(r -> r.isIpv4() == ipv4).toList();
    }
}
