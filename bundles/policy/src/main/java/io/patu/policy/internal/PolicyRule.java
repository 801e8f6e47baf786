package io.patu.policy.internal;

import java.util.List;

/**
 * One ingress or egress rule: traffic matches when it comes from (goes to) one of the peers on one of the
 * ports. No peers means every peer, no ports every port of every protocol.
 */
record PolicyRule(List<Peer> peers, List<PolicyPort> ports) {
    PolicyRule {
        peers = List.copyOf(peers);
        ports = List.copyOf(ports);
    }
}
