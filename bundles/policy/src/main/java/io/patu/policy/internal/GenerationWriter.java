package io.patu.policy.internal;

import io.patu.kernel.bpf.BpfMap;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@link CompiledPolicy} into the kernel as a new generation (see patu_policy.h): everything goes
 * into the slot not in force, then one store to {@code policy_generation} switches every program to it. A
 * packet is thus decided wholly by the old policy or wholly by the new one; cached flow verdicts carry their
 * generation and are computed again on their next packet.
 */
final class GenerationWriter {
    /**
     * How long the slot just left stays untouched. A program reads the generation once and then looks up its
     * slot; one that read the old generation just before the switch must still find the old entries. Programs
     * run for microseconds; this leaves a margin of three orders of magnitude.
     */
    static final long RETIRE_NANOS = 10_000_000L;

    private final PolicyKernelState kernel;
    private long lastSwitch = System.nanoTime() - RETIRE_NANOS;
    /**
     * What this writer put into each slot, per map, so emptying a slot deletes exactly those keys: walking an
     * LPM trie with get_next_key costs a trie walk per key. Null until known: a slot written by an earlier
     * agent (pinned maps) is emptied by one full walk.
     */
    private final Written[] written = new Written[2];

    private record Written(List<byte[]> pods, List<byte[]> ingress, List<byte[]> egress) {
        static Written empty() {
            return new Written(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        boolean isEmpty() {
            return pods.isEmpty() && ingress.isEmpty() && egress.isEmpty();
        }
    }

    GenerationWriter(PolicyKernelState kernel) {
        this.kernel = kernel;
        if (current() == 0) {
            // Fresh maps: both slots are empty, nothing to walk.
            written[0] = Written.empty();
            written[1] = Written.empty();
        }
    }

    /** The generation in force (0: none written yet, nothing is isolated). */
    long current() {
        return PolicyLayouts.u64(kernel.generation.lookup(PolicyLayouts.u32(0)).orElseThrow());
    }

    /**
     * Writes {@code next} and switches to it; returns the new generation. On failure (a map full, a rule
     * that does not fit) the generation in force stays as it was and the spare slot is emptied again.
     */
    synchronized long write(CompiledPolicy next) {
        Encoded encoded = Encoded.of(next);
        long generation = current() + 1;
        int slot = (int) (generation & 1);
        if (written[slot] == null || !written[slot].isEmpty()) {
            // Normally emptied by retire() after the last switch; not when that failed or after a restart.
            waitUntilRetired();
            clearSlot(slot);
        }
        Written into = Written.empty();
        written[slot] = into;
        try {
            for (PodRules pod : next.pods().values()) {
                int flags = (pod.ingressIsolated() ? PolicyLayouts.INGRESS_ISOLATED : 0)
                        | (pod.egressIsolated() ? PolicyLayouts.EGRESS_ISOLATED : 0);
                if (flags == 0) {
                    continue; // not selected: no entry, no checks
                }
                for (InetAddress address : pod.addresses()) {
                    byte[] key = PolicyLayouts.podKey(slot, address);
                    into.pods().add(key);
                    kernel.pods.update(key, PolicyLayouts.podValue(pod.hostIfIndex(), flags), BpfMap.ANY);
                }
            }
            for (Encoded.Rule rule : encoded.ingress()) {
                byte[] key = rule.key(slot);
                into.ingress().add(key);
                kernel.ingressRules.update(key, rule.value(), BpfMap.ANY);
            }
            for (Encoded.Rule rule : encoded.egress()) {
                byte[] key = rule.key(slot);
                into.egress().add(key);
                kernel.egressRules.update(key, rule.value(), BpfMap.ANY);
            }
        } catch (RuntimeException e) {
            clearSlot(slot);
            throw e;
        }
        // ingress_isolated is read by datapaths that bypass the veth's egress hook: a pod isolated by either
        // generation is in it across the switch.
        Set<Integer> isolated = new HashSet<>();
        for (PodRules pod : next.pods().values()) {
            if (pod.ingressIsolated()) {
                isolated.add(pod.hostIfIndex());
                kernel.ingressIsolated.update(PolicyLayouts.u32(pod.hostIfIndex()), new byte[] {1}, BpfMap.ANY);
            }
        }
        kernel.generation.update(PolicyLayouts.u32(0), PolicyLayouts.u64(generation), BpfMap.ANY);
        lastSwitch = System.nanoTime();
        for (byte[] key : kernel.ingressIsolated.keys()) {
            if (!isolated.contains(PolicyLayouts.u32(key))) {
                kernel.ingressIsolated.delete(key);
            }
        }
        return generation;
    }

    /**
     * Empties the slot the last switch left, once no program can still be using it: off the path of the next
     * change, which then only writes.
     */
    synchronized void retire() {
        long inForce = current();
        if (inForce == 0) {
            return;
        }
        waitUntilRetired();
        clearSlot((int) ((inForce + 1) & 1));
    }

    /** Waits until the slot left by the last switch may be rewritten (see {@link #RETIRE_NANOS}). */
    private void waitUntilRetired() {
        long wait = lastSwitch + RETIRE_NANOS - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while retiring a policy generation", e);
            }
        }
    }

    private void clearSlot(int slot) {
        Written known = written[slot];
        if (known != null) {
            known.pods().forEach(kernel.pods::delete);
            known.ingress().forEach(kernel.ingressRules::delete);
            known.egress().forEach(kernel.egressRules::delete);
            written[slot] = Written.empty();
            return;
        }
        for (byte[] key : kernel.pods.keys()) {
            if (PolicyLayouts.podKeySlot(key) == slot) {
                kernel.pods.delete(key);
            }
        }
        for (BpfMap rules : List.of(kernel.ingressRules, kernel.egressRules)) {
            for (byte[] key : rules.keys()) {
                if (PolicyLayouts.ruleKeySlot(key) == slot) {
                    rules.delete(key);
                }
            }
        }
        written[slot] = Written.empty();
    }

    /** The rule entries of a policy, checked and merged before anything is written. */
    record Encoded(List<Rule> ingress, List<Rule> egress) {
        record Rule(int ifindex, InetAddress prefix, int prefixLength, byte[] value) {
            byte[] key(int slot) {
                return PolicyLayouts.ruleKey(slot, ifindex, prefix, prefixLength);
            }
        }

        static Encoded of(CompiledPolicy policy) {
            List<Rule> ingress = new ArrayList<>();
            List<Rule> egress = new ArrayList<>();
            for (PodRules pod : policy.pods().values()) {
                if (pod.ingressIsolated()) {
                    encode(pod, pod.ingress(), "ingress", ingress);
                }
                if (pod.egressIsolated()) {
                    encode(pod, pod.egress(), "egress", egress);
                }
            }
            return new Encoded(List.copyOf(ingress), List.copyOf(egress));
        }

        /** One entry per distinct prefix of a pod; entries for the same prefix are merged (their union). */
        private static void encode(PodRules pod, List<PeerRule> rules, String direction, List<Rule> into) {
            Map<String, List<PortRange>> ports = new LinkedHashMap<>();
            Map<String, PeerRule> first = new LinkedHashMap<>();
            for (PeerRule rule : rules) {
                PolicyLayouts.ruleKey(0, pod.hostIfIndex(), rule.prefix(), rule.prefixLength()); // validates
                String prefix = rule.prefix().getHostAddress() + "/" + rule.prefixLength();
                first.putIfAbsent(prefix, rule);
                ports.computeIfAbsent(prefix, p -> new ArrayList<>()).addAll(rule.ports());
            }
            for (Map.Entry<String, PeerRule> entry : first.entrySet()) {
                List<PortRange> merged = merge(ports.get(entry.getKey()));
                if (merged.size() > PolicyLayouts.MAX_PORTS) {
                    throw new IllegalArgumentException("pod on ifindex " + pod.hostIfIndex() + ", " + direction + " peer "
                            + entry.getKey() + ": " + merged.size() + " distinct port ranges, the kernel holds "
                            + PolicyLayouts.MAX_PORTS + " a peer");
                }
                PeerRule rule = entry.getValue();
                into.add(new Rule(pod.hostIfIndex(), rule.prefix(), rule.prefixLength(), PolicyLayouts.ruleValue(merged)));
            }
        }

        /** Sorted, overlapping and adjacent ranges of one protocol joined; "every protocol" absorbs all. */
        static List<PortRange> merge(List<PortRange> ranges) {
            if (ranges.stream().anyMatch(r -> r.protocol() == PortRange.ANY_PROTOCOL)) {
                return List.of(PortRange.EVERYTHING);
            }
            List<PortRange> sorted = new ArrayList<>(ranges);
            sorted.sort(Comparator.comparingInt(PortRange::protocol).thenComparingInt(PortRange::first));
            List<PortRange> merged = new ArrayList<>();
            for (PortRange range : sorted) {
                PortRange last = merged.isEmpty() ? null : merged.getLast();
                if (last != null && last.protocol() == range.protocol() && range.first() <= last.last() + 1) {
                    merged.set(merged.size() - 1,
                            new PortRange(last.protocol(), last.first(), Math.max(last.last(), range.last())));
                } else {
                    merged.add(range);
                }
            }
            return merged;
        }
    }
}
