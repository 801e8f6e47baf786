package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.List;

/**
 * One longest-prefix-match entry: peers in {@code prefix/prefixLength} may use {@code ports}. Entries are
 * already flattened by the engine: an entry holds the union of the ports of every rule whose peers cover
 * the whole prefix, so the most specific entry alone decides. An entry with no ports denies (an ipBlock
 * {@code except} that no other rule re-allows).
 */
record PeerRule(InetAddress prefix, int prefixLength, List<PortRange> ports) {
    PeerRule {
        ports = List.copyOf(ports);
    }
}
