package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Flattens the rules of one direction of one pod into longest-prefix-match entries ({@link PeerRule}): for
 * every prefix that appears in a rule (ipBlock CIDRs, their excepts, the host prefixes of selected pods),
 * the union of the ports of every rule whose peers cover all addresses that the prefix decides in an LPM
 * lookup, that is the prefix minus the more specific entries inside it. Since every except is itself an entry,
 * a rule covers a prefix when the prefix lies inside one of its CIDRs and inside none of that CIDR's excepts.
 * So an except of one rule never vetoes another rule's allow: the except's entry still gets the other
 * rule's ports.
 */
final class Flattener {
    private Flattener() {
    }

    /** A set of peer addresses: a CIDR minus its excepts, or the addresses of selected pods. */
    record Region(Cidr cidr, List<Cidr> except, Set<InetAddress> hosts) {
        static final List<Region> ALL = List.of(block(Cidr.parse("0.0.0.0/0"), List.of()), block(Cidr.parse("::/0"), List.of()));

        static Region block(Cidr cidr, List<Cidr> except) {
            return new Region(cidr, List.copyOf(except), null);
        }

        static Region pods(Set<InetAddress> hosts) {
            return new Region(null, List.of(), Set.copyOf(hosts));
        }

        boolean covers(Cidr prefix) {
            if (hosts != null) {
                return prefix.isHost() && hosts.contains(prefix.address());
            }
            return cidr.contains(prefix) && except.stream().noneMatch(hole -> hole.contains(prefix));
        }

        boolean contains(InetAddress address) {
            if (hosts != null) {
                return hosts.contains(address);
            }
            return cidr.contains(address) && except.stream().noneMatch(hole -> hole.contains(address));
        }
    }

    /**
     * One rule: its peers, the ports it allows everywhere, and named ports that only mean something on a pod
     * (egress: resolved on each destination pod's host entry).
     */
    record Rule(List<Region> regions, List<PortRange> ports, List<PolicyPort> namedPorts) {
    }

    static List<PeerRule> flatten(List<Rule> rules, List<InetAddress> podAddresses, Function<InetAddress, Optional<LocalPod>> podAt) {
        PrefixTrie trie = new PrefixTrie();
        for (Rule rule : rules) {
            for (Region region : rule.regions()) {
                if (region.hosts() != null) {
                    region.hosts().forEach(h -> trie.add(Cidr.host(h)));
                } else {
                    trie.add(region.cidr());
                    region.except().forEach(trie::add);
                }
                if (!rule.namedPorts().isEmpty()) {
                    podAddresses.stream().filter(region::contains).forEach(a -> trie.add(Cidr.host(a)));
                }
            }
        }
        for (Rule rule : rules) {
            for (Region region : rule.regions()) {
                java.util.function.Consumer<PrefixTrie.Node> cover = node -> {
                    node.addPorts(rule.ports());
                    if (node.prefix.isHost() && !rule.namedPorts().isEmpty()) {
                        podAt.apply(node.prefix.address()).ifPresent(pod -> node.addPorts(resolve(rule.namedPorts(), pod)));
                    }
                };
                if (region.hosts() != null) {
                    for (InetAddress host : region.hosts()) {
                        PrefixTrie.Node node = trie.find(host);
                        if (node != null && node.prefix != null) {
                            cover.accept(node);
                        }
                    }
                } else {
                    // The prefixes inside the CIDR and outside its excepts: exactly those this rule covers.
                    PrefixTrie.visit(trie.find(region.cidr()), region.except(), cover);
                }
            }
        }
        List<PeerRule> entries = new ArrayList<>();
        Map<PrefixTrie.Node, List<PortRange>> merged = new HashMap<>();
        trie.walk((node, parent) -> {
            List<PortRange> own = merge(node.ports());
            merged.put(node, own);
            boolean redundant = parent == null ? own.isEmpty() : own.equals(merged.get(parent));
            if (!redundant) {
                entries.add(new PeerRule(node.prefix.address(), node.prefix.length(), own));
            }
        });
        return entries;
    }

    static List<PortRange> resolve(List<PolicyPort> named, LocalPod pod) {
        List<PortRange> out = new ArrayList<>();
        for (PolicyPort port : named) {
            for (int number : pod.resolve(port.name(), port.protocol())) {
                out.add(new PortRange(port.protocol(), number, number));
            }
        }
        return out;
    }

    /** Ports sorted by protocol and first port, overlapping and adjacent ranges joined. */
    static List<PortRange> merge(List<PortRange> ranges) {
        if (ranges.contains(PortRange.EVERYTHING)) {
            return List.of(PortRange.EVERYTHING);
        }
        Map<Integer, List<PortRange>> byProtocol = new TreeMap<>();
        ranges.forEach(r -> byProtocol.computeIfAbsent(r.protocol(), p -> new ArrayList<>()).add(r));
        List<PortRange> out = new ArrayList<>();
        for (List<PortRange> list : byProtocol.values()) {
            list.sort(Comparator.comparingInt(PortRange::first));
            PortRange current = null;
            for (PortRange next : list) {
                if (current != null && next.first() <= current.last() + 1) {
                    current = new PortRange(current.protocol(), current.first(), Math.max(current.last(), next.last()));
                } else {
                    if (current != null) {
                        out.add(current);
                    }
                    current = next;
                }
            }
            out.add(current);
        }
        return List.copyOf(out);
    }
}
