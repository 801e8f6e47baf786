package io.patu.ipam.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import java.util.function.BiConsumer;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodRoute;
import io.patu.api.json.JsonTrees;
import io.patu.kernel.fs.DurableFiles;

/**
 * Leases on disk. Every change rewrites the whole file durably (see {@link DurableFiles}), so a crash
 * at any point leaves either the old or the new file, never a torn one. Lease files of
 * an edge device are a few KiB, so rewriting them whole is cheaper than keeping a journal.
 *
 * <p>Format version 2 ({@code ipam/leases.json}):
 * <pre>{@code
 * {
 *   "version": 2,
 *   "rangeSets": [                                   // every range set a lease or a cursor refers to
 *     {"ranges": [{"subnet": "10.1.0.0/24", "rangeStart": "10.1.0.1", "rangeEnd": "10.1.0.254",
 *                  "gateway": "10.1.0.1"}],
 *      "lastReserved": "10.1.0.7"},                  // round-robin cursor of the set
 *     {"ranges": [{"subnet": "fd00::/64", ...}]}
 *   ],
 *   "leases": [
 *     {"containerId": "c1", "ifName": "eth0", "addresses": [
 *       {"family": "ipv4", "address": "10.1.0.7", "prefixLength": 24, "gateway": "10.1.0.1", "rangeSet": 0,
 *        "routes": [{"dst": "192.168.0.0/16", "gw": "10.1.0.254"}]},
 *       {"family": "ipv6", "address": "fd00::2", "prefixLength": 64, "gateway": "fd00::1", "rangeSet": 1}
 *     ]}
 *   ]
 * }
 * }</pre>
 * Version 1 files (one subnet, one address a lease) are read and rewritten as version 2 on the next change.
 * A file that names an address twice, or an address outside the range set it claims, is refused.
 */
final class LeaseStore {
    static final int FORMAT_VERSION = 2;

    private final Path file;

    LeaseStore(Path directory) {
        this.file = directory.resolve("leases.json");
    }

    Path file() {
        return file;
    }

    /** One leased address and the range set it was taken from. */
    record Leased(PodAddress address, RangeSet rangeSet) {
    }

    /** What the file holds: the round-robin cursor of each range set, and the leases in the order made. */
    record Snapshot(Map<RangeSet, InetAddress> cursors, Map<PodId, List<Leased>> leases) {
    }

    record RangeEntry(String subnet, String rangeStart, String rangeEnd, String gateway) {
    }

    record RangeSetEntry(List<RangeEntry> ranges, String lastReserved) {
    }

    record RouteEntry(String dst, String gw) {
    }

    record AddressEntry(String family, String address, int prefixLength, String gateway, Integer rangeSet,
            List<RouteEntry> routes) {
    }

    /** {@code address} is the single address of a version 1 file. */
    record LeaseEntry(String containerId, String ifName, String address, List<AddressEntry> addresses) {
    }

    /** {@code subnet} and {@code last} are those of a version 1 file. */
    record FileFormat(int version, List<RangeSetEntry> rangeSets, List<LeaseEntry> leases, String subnet, String last) {
    }

    /**
     * Reads the file; an absent file is no leases.
     *
     * @param defaults the agent's configuration, which a version 1 file was written for
     */
    Snapshot load(IpamConfig defaults) throws IOException {
        if (!Files.exists(file)) {
            return new Snapshot(Map.of(), Map.of());
        }
        FileFormat format;
        try {
            format = fileFormat(JsonTrees.read(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new IOException("lease file " + file + " is not readable JSON: " + e.getMessage(), e);
        }
        try {
            Snapshot snapshot = switch (format.version()) {
                case 1 -> fromVersion1(format, defaults);
                case FORMAT_VERSION -> fromVersion2(format);
                default -> throw new IOException("has format version " + format.version()
                        + ", this agent reads versions 1 and " + FORMAT_VERSION);
            };
            Set<InetAddress> seen = new HashSet<>();
            snapshot.leases().forEach((id, addresses) -> addresses.forEach(leased -> {
                if (!seen.add(leased.address().address())) {
                    throw new IllegalArgumentException("address " + leased.address().address().getHostAddress()
                            + " is leased twice (again to " + id + ")");
                }
            }));
            return snapshot;
        } catch (IOException | RuntimeException e) {
            throw new IOException("lease file " + file + " " + (e instanceof IOException ? "" : "is inconsistent: ")
                    + e.getMessage(), e);
        }
    }

    private static Snapshot fromVersion2(FileFormat format) {
        List<RangeSet> sets = new ArrayList<>();
        Map<RangeSet, InetAddress> cursors = new LinkedHashMap<>();
        for (RangeSetEntry entry : orEmpty(format.rangeSets())) {
            RangeSet set = new RangeSet(orEmpty(entry.ranges()).stream()
                    .map(r -> AddressRange.of(r.subnet(), r.rangeStart(), r.rangeEnd(), r.gateway())).toList());
            sets.add(set);
            if (entry.lastReserved() != null) {
                cursors.put(set, Subnet.parseLiteral(entry.lastReserved()));
            }
        }
        Map<PodId, List<Leased>> leases = new LinkedHashMap<>();
        for (LeaseEntry entry : orEmpty(format.leases())) {
            PodId id = new PodId(entry.containerId(), entry.ifName());
            List<Leased> addresses = new ArrayList<>();
            for (AddressEntry address : orEmpty(entry.addresses())) {
                if (address.rangeSet() == null || address.rangeSet() < 0 || address.rangeSet() >= sets.size()) {
                    throw new IllegalArgumentException("lease of " + id + " refers to range set " + address.rangeSet()
                            + " of " + sets.size());
                }
                RangeSet set = sets.get(address.rangeSet());
                InetAddress ip = Subnet.parseLiteral(address.address());
                if (set.rangeOf(ip).isEmpty()) {
                    throw new IllegalArgumentException("lease of " + id + " holds " + ip.getHostAddress()
                            + ", outside its range set " + set);
                }
                List<PodRoute> routes = orEmpty(address.routes()).stream().map(r -> {
                    Subnet dst = Subnet.parseMasked(r.dst());
                    return new PodRoute(dst.network(), dst.prefixLength(), r.gw() == null ? null : Subnet.parseLiteral(r.gw()));
                }).toList();
                addresses.add(new Leased(new PodAddress(ip, address.prefixLength(), Subnet.parseLiteral(address.gateway()),
                        routes), set));
            }
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("lease of " + id + " holds no address");
            }
            if (leases.put(id, addresses) != null) {
                throw new IllegalArgumentException(id + " has two leases");
            }
        }
        return new Snapshot(cursors, leases);
    }

    /** One subnet, one address a lease: the set of the agent's configuration if it is that subnet. */
    private static Snapshot fromVersion1(FileFormat format, IpamConfig defaults) {
        RangeSet set = defaults.rangeSets().stream()
                .filter(s -> s.ranges().size() == 1 && s.ranges().getFirst().subnet().toString().equals(format.subnet()))
                .findFirst()
                .orElseGet(() -> new RangeSet(List.of(AddressRange.of(format.subnet(), null, null, null))));
        AddressRange range = set.ranges().getFirst();
        Map<PodId, List<Leased>> leases = new LinkedHashMap<>();
        for (LeaseEntry entry : orEmpty(format.leases())) {
            InetAddress ip = Subnet.parseLiteral(entry.address());
            if (range.isUsable(ip)) {
                leases.put(new PodId(entry.containerId(), entry.ifName()), List.of(new Leased(
                        new PodAddress(ip, range.subnet().prefixLength(), range.gateway()), set)));
            }
        }
        Map<RangeSet, InetAddress> cursors = new LinkedHashMap<>();
        if (format.last() != null) {
            cursors.put(set, Subnet.parseLiteral(format.last()));
        }
        return new Snapshot(cursors, leases);
    }

    void save(Snapshot snapshot) throws IOException {
        List<RangeSet> sets = new ArrayList<>(snapshot.cursors().keySet());
        snapshot.leases().values().forEach(addresses -> addresses.forEach(leased -> {
            if (!sets.contains(leased.rangeSet())) {
                sets.add(leased.rangeSet());
            }
        }));
        List<RangeSetEntry> setEntries = new ArrayList<>();
        for (RangeSet set : sets) {
            InetAddress cursor = snapshot.cursors().get(set);
            setEntries.add(new RangeSetEntry(set.ranges().stream().map(r -> new RangeEntry(r.subnet().toString(),
                    r.start().getHostAddress(), r.end().getHostAddress(), r.gateway().getHostAddress())).toList(),
                    cursor == null ? null : cursor.getHostAddress()));
        }
        List<LeaseEntry> entries = new ArrayList<>();
        snapshot.leases().forEach((id, addresses) -> entries.add(new LeaseEntry(id.containerId(), id.ifName(), null,
                addresses.stream().map(leased -> {
                    PodAddress a = leased.address();
                    List<RouteEntry> routes = a.routes().stream().map(r -> new RouteEntry(r.cidr(),
                            r.gateway() == null ? null : r.gateway().getHostAddress())).toList();
                    return new AddressEntry(a.isIpv4() ? "ipv4" : "ipv6", a.address().getHostAddress(), a.prefixLength(),
                            a.gateway().getHostAddress(), sets.indexOf(leased.rangeSet()), routes.isEmpty() ? null : routes);
                }).toList())));
        byte[] bytes = JsonTrees.write(tree(new FileFormat(FORMAT_VERSION, setEntries, entries, null, null)), true);
        DurableFiles.writeAtomically(file, bytes);
    }

    /*
     * The records above and the JSON tree, member by member, in the order of the record components. Reading
     * ignores members it does not know and takes absent ones as null (0 for numbers); writing leaves out
     * null members.
     */

    private static FileFormat fileFormat(JsonNode root) throws IOException {
        if (root == null || !root.isObject()) {
            throw new IOException("not a JSON object");
        }
        try {
            return new FileFormat(root.path("version").asInt(),
                    list(root, "rangeSets", set -> new RangeSetEntry(
                            list(set, "ranges", r -> new RangeEntry(text(r, "subnet"), text(r, "rangeStart"),
                                    text(r, "rangeEnd"), text(r, "gateway"))),
                            text(set, "lastReserved"))),
                    list(root, "leases", lease -> new LeaseEntry(text(lease, "containerId"), text(lease, "ifName"),
                            text(lease, "address"),
                            list(lease, "addresses", a -> new AddressEntry(text(a, "family"), text(a, "address"),
                                    a.path("prefixLength").asInt(), text(a, "gateway"),
                                    a.hasNonNull("rangeSet") ? a.get("rangeSet").asInt() : null,
                                    list(a, "routes", r -> new RouteEntry(text(r, "dst"), text(r, "gw"))))))),
                    text(root, "subnet"), text(root, "last"));
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static ObjectNode tree(FileFormat format) {
        ObjectNode root = JsonTrees.object();
        root.put("version", format.version());
        putList(root, "rangeSets", format.rangeSets(), (set, node) -> {
            putList(node, "ranges", set.ranges(), (r, range) -> {
                putText(range, "subnet", r.subnet());
                putText(range, "rangeStart", r.rangeStart());
                putText(range, "rangeEnd", r.rangeEnd());
                putText(range, "gateway", r.gateway());
            });
            putText(node, "lastReserved", set.lastReserved());
        });
        putList(root, "leases", format.leases(), (lease, node) -> {
            putText(node, "containerId", lease.containerId());
            putText(node, "ifName", lease.ifName());
            putText(node, "address", lease.address());
            putList(node, "addresses", lease.addresses(), (a, address) -> {
                putText(address, "family", a.family());
                putText(address, "address", a.address());
                address.put("prefixLength", a.prefixLength());
                putText(address, "gateway", a.gateway());
                if (a.rangeSet() != null) {
                    address.put("rangeSet", a.rangeSet().intValue());
                }
                putList(address, "routes", a.routes(), (r, route) -> {
                    putText(route, "dst", r.dst());
                    putText(route, "gw", r.gw());
                });
            });
        });
        putText(root, "subnet", format.subnet());
        putText(root, "last", format.last());
        return root;
    }

    private static String text(JsonNode object, String name) {
        JsonNode value = object.get(name);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static <T> List<T> list(JsonNode object, String name, Function<JsonNode, T> element) {
        JsonNode value = object.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isArray()) {
            throw new IllegalArgumentException("\"" + name + "\" is not a list");
        }
        List<T> elements = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isObject()) {
                throw new IllegalArgumentException("an element of \"" + name + "\" is not an object");
            }
            elements.add(element.apply(item));
        }
        return elements;
    }

    private static void putText(ObjectNode object, String name, String value) {
        if (value != null) {
            object.put(name, value);
        }
    }

    private static <T> void putList(ObjectNode object, String name, List<T> values,
            BiConsumer<T, ObjectNode> element) {
        if (values != null) {
            ArrayNode array = object.putArray(name);
            values.forEach(value -> element.accept(value, array.addObject()));
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
