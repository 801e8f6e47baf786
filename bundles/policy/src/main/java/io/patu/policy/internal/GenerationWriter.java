package io.patu.policy.internal;

import io.patu.kernel.bpf.BpfMap;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@link CompiledPolicy} into the kernel as a new generation (see patu_policy.h): everything goes
 * into the slot not in force, then one store to {@code policy_generation} switches every program to it. A
 * packet is thus decided wholly by the old policy or wholly by the new one; cached flow verdicts carry their
 * generation and are computed again on their next packet.
 *
 * <p>The slot not in force still holds the generation before the one in force, and this writer remembers
 * which value that was: a new generation is written as the difference to it (only pods whose rules changed
 * are encoded, only entries that differ are written or deleted). A change of one policy among a thousand
 * rules so costs the system calls of what it changes, not of the whole policy.
 */
final class GenerationWriter {
    /**
     * How long the slot just left stays untouched. A program reads the generation once and then looks up its
     * slot; one that read the old generation just before the switch must still find the old entries. Programs
     * run for microseconds; this leaves a margin of three orders of magnitude.
     */
    static final long RETIRE_NANOS = 10_000_000L;
    private static final CompiledPolicy NOTHING = new CompiledPolicy(0, Map.of());

    private final PolicyKernelState kernel;
    private long lastSwitch = System.nanoTime() - RETIRE_NANOS;
    /**
     * What each slot holds, as the value written into it. Null when unknown (a slot written by an earlier
     * agent into pinned maps, or a write that failed half-way): the next write into it empties it first by
     * one walk over the maps.
     */
    private final CompiledPolicy[] inSlot = new CompiledPolicy[2];

    GenerationWriter(PolicyKernelState kernel) {
        this.kernel = kernel;
        if (current() == 0) {
            // Fresh maps: both slots are empty, nothing to walk.
            inSlot[0] = NOTHING;
            inSlot[1] = NOTHING;
        }
    }

    /** The generation in force (0: none written yet, nothing is isolated). */
    long current() {
        return PolicyLayouts.u64(kernel.generation.lookup(PolicyLayouts.u32(0)).orElseThrow());
    }

    /** Entries written, rewritten and deleted by the last {@link #write}, for the datapath's status. */
    int lastWrites() {
        return lastWrites;
    }

    private int lastWrites;

    /**
     * Writes {@code next} and switches to it; returns the new generation. On failure (a map full, a rule
     * that does not fit) the generation in force stays as it was; the spare slot is emptied on the next write.
     */
    synchronized long write(CompiledPolicy next) {
        long generation = current() + 1;
        int slot = (int) (generation & 1);
        CompiledPolicy base = inSlot[slot];
        // Everything is encoded (and checked) before the slot is touched.
        Diff diff = new Diff(slot);
        Set<Integer> ifindexes = new HashSet<>(next.pods().keySet());
        if (base != null) {
            ifindexes.addAll(base.pods().keySet());
        }
        for (int ifindex : ifindexes) {
            PodRules before = base == null ? null : base.pods().get(ifindex);
            PodRules after = next.pods().get(ifindex);
            if (base != null && java.util.Objects.equals(before, after)) {
                continue; // unchanged: its entries are in the slot already
            }
            diff.pod(before, after);
        }
        // The slot was in force until the last switch: a program may still be reading it for a moment.
        waitUntilRetired();
        if (base == null) {
            clearSlot(slot); // the diff above is then the whole policy
        }
        inSlot[slot] = null; // half-written until the end
        diff.apply();
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
        inSlot[slot] = next;
        lastWrites = diff.operations;
        for (byte[] key : kernel.ingressIsolated.keys()) {
            if (!isolated.contains(PolicyLayouts.u32(key))) {
                kernel.ingressIsolated.delete(key);
            }
        }
        return generation;
    }

    /**
     * The entries that change in one slot, per map: keys to delete, and keys to write with their values.
     * Deletes go first, so an address or prefix that moves from one pod to another never meets a full map.
     */
    private final class Diff {
        private final int slot;
        private final Map<ByteBuffer, byte[]> podWrites = new LinkedHashMap<>();
        private final Set<ByteBuffer> podDeletes = new LinkedHashSet<>();
        private final Map<ByteBuffer, byte[]> ingressWrites = new LinkedHashMap<>();
        private final Set<ByteBuffer> ingressDeletes = new LinkedHashSet<>();
        private final Map<ByteBuffer, byte[]> egressWrites = new LinkedHashMap<>();
        private final Set<ByteBuffer> egressDeletes = new LinkedHashSet<>();
        int operations;

        Diff(int slot) {
            this.slot = slot;
        }

        void pod(PodRules before, PodRules after) {
            diff(podEntries(before), podEntries(after), podWrites, podDeletes);
            diff(ruleEntries(before, true), ruleEntries(after, true), ingressWrites, ingressDeletes);
            diff(ruleEntries(before, false), ruleEntries(after, false), egressWrites, egressDeletes);
        }

        private static void diff(Map<ByteBuffer, byte[]> before, Map<ByteBuffer, byte[]> after,
                                 Map<ByteBuffer, byte[]> writes, Set<ByteBuffer> deletes) {
            before.forEach((key, value) -> {
                if (!after.containsKey(key)) {
                    deletes.add(key);
                }
            });
            after.forEach((key, value) -> {
                if (!java.util.Arrays.equals(value, before.get(key))) {
                    writes.put(key, value);
                    deletes.remove(key);
                }
            });
        }

        private Map<ByteBuffer, byte[]> podEntries(PodRules pod) {
            Map<ByteBuffer, byte[]> entries = new LinkedHashMap<>();
            if (pod == null) {
                return entries;
            }
            int flags = (pod.ingressIsolated() ? PolicyLayouts.INGRESS_ISOLATED : 0)
                    | (pod.egressIsolated() ? PolicyLayouts.EGRESS_ISOLATED : 0);
            if (flags == 0) {
                return entries; // not selected: no entry, no checks
            }
            for (InetAddress address : pod.addresses()) {
                entries.put(ByteBuffer.wrap(PolicyLayouts.podKey(slot, address)), PolicyLayouts.podValue(pod.hostIfIndex(), flags));
            }
            return entries;
        }

        private Map<ByteBuffer, byte[]> ruleEntries(PodRules pod, boolean ingress) {
            Map<ByteBuffer, byte[]> entries = new LinkedHashMap<>();
            if (pod == null || !(ingress ? pod.ingressIsolated() : pod.egressIsolated())) {
                return entries;
            }
            List<Encoded.Rule> rules = new ArrayList<>();
            Encoded.encode(pod, ingress ? pod.ingress() : pod.egress(), ingress ? "ingress" : "egress", rules);
            for (Encoded.Rule rule : rules) {
                entries.put(ByteBuffer.wrap(rule.key(slot)), rule.value());
            }
            return entries;
        }

        void apply() {
            apply(kernel.pods, podDeletes, podWrites);
            apply(kernel.ingressRules, ingressDeletes, ingressWrites);
            apply(kernel.egressRules, egressDeletes, egressWrites);
        }

        private void apply(BpfMap map, Set<ByteBuffer> deletes, Map<ByteBuffer, byte[]> writes) {
            for (ByteBuffer key : deletes) {
                map.delete(key.array());
                operations++;
            }
            for (Map.Entry<ByteBuffer, byte[]> entry : writes.entrySet()) {
                map.update(entry.getKey().array(), entry.getValue(), BpfMap.ANY);
                operations++;
            }
        }
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

    /** Empties a slot whose content is not known, by one walk over each map. */
    private void clearSlot(int slot) {
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
        inSlot[slot] = NOTHING;
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
            // Keyed by prefix, not its text: this runs for every changed pod on every change. Cidr checks the
            // length against the family, and makes no copy of a prefix without host bits.
            Map<Cidr, List<PortRange>> ports = new LinkedHashMap<>();
            Map<Cidr, PeerRule> first = new LinkedHashMap<>();
            for (PeerRule rule : rules) {
                Cidr prefix = new Cidr(rule.prefix(), rule.prefixLength());
                first.putIfAbsent(prefix, rule);
                ports.computeIfAbsent(prefix, p -> new ArrayList<>()).addAll(rule.ports());
            }
            for (Map.Entry<Cidr, PeerRule> entry : first.entrySet()) {
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
