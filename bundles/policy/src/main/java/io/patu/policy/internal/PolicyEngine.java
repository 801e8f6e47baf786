package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.patu.api.NamedPort;

/**
 * Kubernetes NetworkPolicy v1 semantics over the local pods: which pods each policy isolates, what their
 * rules allow, compiled into {@link CompiledPolicy} for the kernel, and explained for an operator. Pure
 * functions of {@link PolicyInputs}.
 *
 * <ul>
 *   <li>A pod is isolated for a direction when some policy selecting it has that policy type; then the union of
 *   the rules of all those policies is what it allows. A pod no policy isolates allows everything.</li>
 *   <li>A connection needs both the source's egress and the destination's ingress to allow it. Sides that are
 *   not local pods do not restrict here (another node's policy, or none).</li>
 *   <li>Named ports resolve on the destination pod: the pod itself for ingress, each peer pod for egress.</li>
 * </ul>
 */
final class PolicyEngine {
    private PolicyEngine() {
    }

    static CompiledPolicy compile(PolicyInputs inputs, long generation) {
        return compile(inputs, generation, new Memo());
    }

    /**
     * What compilations reuse from the ones before: the peers of each policy's rules and the flattened entries
     * of each set of policies. Both are functions of the policies and of the world (local pods with their
     * labels, addresses and named ports, and the namespaces' labels): while the world stays the same, a change
     * of one policy recomputes only the pods that policy selects (before or after). Policies are recognised by
     * value, so a file read again into equal objects costs nothing here. Holds only what the last compilation
     * used. Not thread-safe: the agent compiles under its lock.
     */
    static final class Memo {
        private List<LocalPod> pods;
        private Map<String, Map<String, String>> namespaceLabels;
        private final Map<NetworkPolicy, Integer> ids = new HashMap<>();
        private int nextId;
        private final Map<Integer, List<List<Flattener.Region>>> regions = new HashMap<>();
        private final Map<FlattenKey, List<PeerRule>> flattened = new HashMap<>();
        /** Flattenings the last compilation computed (the others it reused), for the agent's log. */
        int computed;

        /** Starts a compilation; returns the interner it shares its entries through (see {@link RuleInterner}). */
        private RuleInterner startWith(PolicyInputs inputs) {
            RuleInterner interner = new RuleInterner(List.of());
            if (!inputs.pods().equals(pods) || !inputs.namespaceLabels().equals(namespaceLabels)) {
                // Everything is flattened again: entries equal to those of the last compilation are shared with
                // it (the datapath still holds them). A change of policies alone reuses the unchanged
                // flattenings as they are, and does not pay for reading the last compilation's entries.
                interner = new RuleInterner(List.copyOf(flattened.values()));
                regions.clear();
                flattened.clear();
                pods = inputs.pods();
                namespaceLabels = inputs.namespaceLabels();
            }
            computed = 0;
            return interner;
        }
    }

    static CompiledPolicy compile(PolicyInputs inputs, long generation, Memo memo) {
        RuleInterner interner = memo.startWith(inputs);
        List<InetAddress> podAddresses = inputs.pods().stream().flatMap(p -> p.addresses().stream()).toList();
        // A rule's peers do not depend on the pod it is compiled for, and pods selected by the same policies
        // (with the same named ports, for ingress) get the same entries: both are computed once, and kept for
        // the next compilation (see Memo).
        Map<NetworkPolicy, Integer> index = new IdentityHashMap<>();
        for (NetworkPolicy policy : inputs.policies()) {
            index.put(policy, memo.ids.computeIfAbsent(policy, p -> memo.nextId++));
        }
        Set<Integer> usedIds = new HashSet<>(index.values());
        Set<FlattenKey> usedKeys = new HashSet<>();
        Map<Integer, PodRules> pods = new HashMap<>();
        for (LocalPod pod : inputs.pods()) {
            List<NetworkPolicy> ingressPolicies = selecting(inputs, pod, true);
            List<NetworkPolicy> egressPolicies = selecting(inputs, pod, false);
            List<PeerRule> ingress = List.of();
            if (!ingressPolicies.isEmpty()) {
                FlattenKey key = new FlattenKey(true, ingressPolicies.stream().map(index::get).toList(), pod.namedPorts());
                usedKeys.add(key);
                ingress = memo.flattened.computeIfAbsent(key, k -> {
                    memo.computed++;
                    List<Flattener.Rule> rules = new ArrayList<>();
                    for (NetworkPolicy policy : ingressPolicies) {
                        List<List<Flattener.Region>> peers = memo.regions.computeIfAbsent(index.get(policy), p -> regionsOf(inputs, policy));
                        for (int r = 0; r < policy.ingress().size(); r++) {
                            PolicyRule rule = policy.ingress().get(r);
                            // Ingress: the destination is this pod, so named ports resolve here, once.
                            List<PortRange> ports = new ArrayList<>(fixedPorts(rule));
                            ports.addAll(Flattener.resolve(namedPorts(rule), pod));
                            rules.add(new Flattener.Rule(peers.get(r), ports, List.of()));
                        }
                    }
                    return interner.intern(Flattener.flatten(rules, podAddresses, inputs::podAt));
                });
            }
            List<PeerRule> egress = List.of();
            if (!egressPolicies.isEmpty()) {
                FlattenKey key = new FlattenKey(false, egressPolicies.stream().map(index::get).toList(), List.of());
                usedKeys.add(key);
                egress = memo.flattened.computeIfAbsent(key, k -> {
                    memo.computed++;
                    List<Flattener.Rule> rules = new ArrayList<>();
                    for (NetworkPolicy policy : egressPolicies) {
                        List<List<Flattener.Region>> peers = memo.regions.computeIfAbsent(index.get(policy), p -> regionsOf(inputs, policy));
                        int offset = policy.ingress().size();
                        for (int r = 0; r < policy.egress().size(); r++) {
                            PolicyRule rule = policy.egress().get(r);
                            rules.add(new Flattener.Rule(peers.get(offset + r), fixedPorts(rule), namedPorts(rule)));
                        }
                    }
                    return interner.intern(Flattener.flatten(rules, podAddresses, inputs::podAt));
                });
            }
            pods.put(pod.pod().hostIfIndex(), new PodRules(pod.pod().hostIfIndex(), pod.addresses(),
                    !ingressPolicies.isEmpty(), !egressPolicies.isEmpty(), ingress, egress));
        }
        // Keep only what this compilation used: the memo never holds more than the policy in force.
        memo.ids.values().retainAll(usedIds);
        memo.regions.keySet().retainAll(usedIds);
        memo.flattened.keySet().retainAll(usedKeys);
        return new CompiledPolicy(generation, pods);
    }

    /** What the flattened entries are a function of, for one pod and direction (policies by memo id). */
    private record FlattenKey(boolean ingress, List<Integer> policies, List<NamedPort> namedPorts) {
    }

    /** The peers of every rule of a policy: its ingress rules, then its egress rules. */
    private static List<List<Flattener.Region>> regionsOf(PolicyInputs inputs, NetworkPolicy policy) {
        List<List<Flattener.Region>> out = new ArrayList<>();
        policy.ingress().forEach(rule -> out.add(regions(inputs, policy, rule)));
        policy.egress().forEach(rule -> out.add(regions(inputs, policy, rule)));
        return out;
    }

    /** Policies that select {@code pod} and affect the direction. */
    static List<NetworkPolicy> selecting(PolicyInputs inputs, LocalPod pod, boolean ingress) {
        return inputs.policies().stream().filter(p -> ingress ? p.affectsIngress() : p.affectsEgress())
                .filter(p -> PolicyInputs.selects(p, pod)).toList();
    }

    /** The local pods a policy selects. */
    static List<LocalPod> selected(PolicyInputs inputs, NetworkPolicy policy) {
        return inputs.pods().stream().filter(p -> PolicyInputs.selects(policy, p)).toList();
    }

    private static List<Flattener.Region> regions(PolicyInputs inputs, NetworkPolicy policy, PolicyRule rule) {
        if (rule.peers().isEmpty()) {
            return Flattener.Region.ALL;
        }
        List<Flattener.Region> regions = new ArrayList<>();
        for (Peer peer : rule.peers()) {
            if (peer.isIpBlock()) {
                regions.add(Flattener.Region.block(peer.cidr(), peer.except()));
            } else {
                Set<InetAddress> hosts = new LinkedHashSet<>();
                inputs.pods().stream().filter(q -> inputs.peerSelects(policy, peer, q)).forEach(q -> hosts.addAll(q.addresses()));
                if (!hosts.isEmpty()) {
                    regions.add(Flattener.Region.pods(hosts));
                }
            }
        }
        return regions;
    }

    private static List<PortRange> fixedPorts(PolicyRule rule) {
        if (rule.ports().isEmpty()) {
            return List.of(PortRange.EVERYTHING);
        }
        return rule.ports().stream().filter(p -> !p.named())
                .map(p -> p.port() == 0 ? new PortRange(p.protocol(), 0, 65535) : new PortRange(p.protocol(), p.port(), p.endPort()))
                .toList();
    }

    private static List<PolicyPort> namedPorts(PolicyRule rule) {
        return rule.ports().stream().filter(PolicyPort::named).toList();
    }

    /** Why a connection from {@code source} to {@code destination} on {@code port}/{@code protocol} is allowed or not. */
    static Verdict explain(PolicyInputs inputs, InetAddress source, InetAddress destination, int protocol, int port) {
        Optional<LocalPod> from = inputs.podAt(source);
        Optional<LocalPod> to = inputs.podAt(destination);
        Verdict.Side egress = side(inputs, from, false, destination, to, to, protocol, port);
        Verdict.Side ingress = side(inputs, to, true, source, from, to, protocol, port);
        return new Verdict(egress.allows() && ingress.allows(), egress, ingress);
    }

    private static Verdict.Side side(PolicyInputs inputs, Optional<LocalPod> deciding, boolean ingress, InetAddress peer,
                                     Optional<LocalPod> peerPod, Optional<LocalPod> portPod, int protocol, int port) {
        if (deciding.isEmpty()) {
            return new Verdict.Side(null, List.of(), List.of());
        }
        List<String> isolatedBy = new ArrayList<>();
        List<String> allowedBy = new ArrayList<>();
        for (NetworkPolicy policy : selecting(inputs, deciding.get(), ingress)) {
            isolatedBy.add(policy.qualifiedName());
            List<PolicyRule> rules = ingress ? policy.ingress() : policy.egress();
            for (int i = 0; i < rules.size(); i++) {
                PolicyRule rule = rules.get(i);
                if (peerMatches(inputs, policy, rule, peer, peerPod) && portMatches(rule, portPod, protocol, port)) {
                    allowedBy.add(policy.qualifiedName() + " " + (ingress ? "ingress" : "egress") + " rule " + (i + 1));
                }
            }
        }
        return new Verdict.Side(deciding.get().displayName(), isolatedBy, allowedBy);
    }

    private static boolean peerMatches(PolicyInputs inputs, NetworkPolicy policy, PolicyRule rule, InetAddress peer,
                                       Optional<LocalPod> peerPod) {
        if (rule.peers().isEmpty()) {
            return true;
        }
        for (Peer p : rule.peers()) {
            if (p.isIpBlock()) {
                if (p.cidr().contains(peer) && p.except().stream().noneMatch(e -> e.contains(peer))) {
                    return true;
                }
            } else if (peerPod.isPresent() && inputs.peerSelects(policy, p, peerPod.get())) {
                return true;
            }
        }
        return false;
    }

    private static boolean portMatches(PolicyRule rule, Optional<LocalPod> destination, int protocol, int port) {
        if (rule.ports().isEmpty()) {
            return true;
        }
        for (PolicyPort p : rule.ports()) {
            if (p.protocol() != protocol) {
                continue;
            }
            if (p.named()) {
                if (destination.isPresent() && destination.get().resolve(p.name(), protocol).contains(port)) {
                    return true;
                }
            } else if (p.port() == 0 || port >= p.port() && port <= p.endPort()) {
                return true;
            }
        }
        return false;
    }
}
