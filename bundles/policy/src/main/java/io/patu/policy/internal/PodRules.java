package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.List;

/**
 * The rules of one local pod, flattened for a longest-prefix match: for a peer address, the most specific
 * {@link PeerRule} covering it says which protocols and ports are allowed; no covering entry means denied.
 * A direction that is not isolated allows everything and carries no rules.
 *
 * @param hostIfIndex     ifindex of the pod's host-side veth
 * @param addresses       the pod's addresses
 * @param ingressIsolated some policy selecting the pod has policyType Ingress
 * @param egressIsolated  some policy selecting the pod has policyType Egress
 * @param ingress         who may connect to this pod (peer = source), when ingress-isolated
 * @param egress          whom this pod may connect to (peer = destination), when egress-isolated
 */
record PodRules(int hostIfIndex, List<InetAddress> addresses, boolean ingressIsolated, boolean egressIsolated,
        List<PeerRule> ingress, List<PeerRule> egress) {
    PodRules {
        addresses = List.copyOf(addresses);
        ingress = List.copyOf(ingress);
        egress = List.copyOf(egress);
    }
}
