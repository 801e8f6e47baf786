package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Canonical instances of equal flattened entries ({@link PeerRule}, their port lists, port ranges and prefix
 * addresses) within one compilation, seeded with the entries of the compilation before it. Twenty pods under
 * the same policies get mostly equal entries, and the datapath keeps the generation before the one in force
 * to write the next as a difference: without this, each of those is a copy of its own (issue 10 item 7 bounds
 * the agent's memory with a 1,000-rule set loaded). All of these values are immutable, so sharing them changes
 * nothing but the memory. Lives for one compilation only: it holds nothing between changes.
 */
final class RuleInterner {
    private final Map<PeerRule, PeerRule> rules = new HashMap<>();
    private final Map<List<PortRange>, List<PortRange>> portLists = new HashMap<>();
    private final Map<PortRange, PortRange> ranges = new HashMap<>();
    private final Map<InetAddress, InetAddress> addresses = new HashMap<>();

    /** Entries of the last compilation, read when the first entry is interned (a change that flattens nothing never reads them). */
    private List<List<PeerRule>> seed;

    /** @param seed the entries of the last compilation (already canonical): the ones to share */
    RuleInterner(List<List<PeerRule>> seed) {
        this.seed = seed;
    }

    private void seed() {
        List<List<PeerRule>> lists = seed;
        seed = null;
        for (List<PeerRule> list : lists) {
            for (PeerRule rule : list) {
                rules.putIfAbsent(rule, rule);
                portLists.putIfAbsent(rule.ports(), rule.ports());
                rule.ports().forEach(r -> ranges.putIfAbsent(r, r));
                addresses.putIfAbsent(rule.prefix(), rule.prefix());
            }
        }
    }

    /** {@code list} with every entry replaced by its canonical instance, as an immutable list. */
    List<PeerRule> intern(List<PeerRule> list) {
        if (seed != null) {
            seed();
        }
        List<PeerRule> out = new ArrayList<>(list.size());
        for (PeerRule rule : list) {
            out.add(intern(rule));
        }
        return List.copyOf(out);
    }

    private PeerRule intern(PeerRule rule) {
        PeerRule known = rules.get(rule);
        if (known != null) {
            return known;
        }
        InetAddress prefix = addresses.computeIfAbsent(rule.prefix(), a -> a);
        List<PortRange> ports = portLists.get(rule.ports());
        if (ports == null) {
            List<PortRange> canonical = new ArrayList<>(rule.ports().size());
            rule.ports().forEach(r -> canonical.add(ranges.computeIfAbsent(r, x -> x)));
            ports = List.copyOf(canonical);
            portLists.put(ports, ports);
        }
        PeerRule canonical = prefix == rule.prefix() && ports == rule.ports() ? rule : new PeerRule(prefix, rule.prefixLength(), ports);
        rules.put(canonical, canonical);
        return canonical;
    }
}
