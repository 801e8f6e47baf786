package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
        List<InetAddress> podAddresses = inputs.pods().stream().flatMap(p -> p.addresses().stream()).toList();
        Map<Integer, PodRules> pods = new HashMap<>();
        for (LocalPod pod : inputs.pods()) {
            List<NetworkPolicy> ingressPolicies = selecting(inputs, pod, true);
            List<NetworkPolicy> egressPolicies = selecting(inputs, pod, false);
            List<Flattener.Rule> ingress = new ArrayList<>();
            for (NetworkPolicy policy : ingressPolicies) {
                for (PolicyRule rule : policy.ingress()) {
                    // Ingress: the destination is this pod, so named ports resolve here, once.
                    List<PortRange> ports = new ArrayList<>(fixedPorts(rule));
                    ports.addAll(Flattener.resolve(namedPorts(rule), pod));
                    ingress.add(new Flattener.Rule(regions(inputs, policy, rule), ports, List.of()));
                }
            }
            List<Flattener.Rule> egress = new ArrayList<>();
            for (NetworkPolicy policy : egressPolicies) {
                for (PolicyRule rule : policy.egress()) {
                    egress.add(new Flattener.Rule(regions(inputs, policy, rule), fixedPorts(rule), namedPorts(rule)));
                }
            }
            pods.put(pod.pod().hostIfIndex(), new PodRules(pod.pod().hostIfIndex(), pod.addresses(),
                    !ingressPolicies.isEmpty(), !egressPolicies.isEmpty(),
                    ingressPolicies.isEmpty() ? List.of() : Flattener.flatten(ingress, podAddresses, inputs::podAt),
                    egressPolicies.isEmpty() ? List.of() : Flattener.flatten(egress, podAddresses, inputs::podAt)));
        }
        return new CompiledPolicy(generation, pods);
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
