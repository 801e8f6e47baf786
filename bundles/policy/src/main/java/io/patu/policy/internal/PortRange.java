package io.patu.policy.internal;

/**
 * Destination ports {@code first..last} of one IP protocol. {@link #ANY_PROTOCOL} with 0..65535 is a rule
 * without ports, which admits every protocol (ICMP included), as Kubernetes defines it.
 *
 * @param protocol IP protocol number: 6 TCP, 17 UDP, 132 SCTP, or {@link #ANY_PROTOCOL}
 */
record PortRange(int protocol, int first, int last) {
    static final int ANY_PROTOCOL = 0;
    static final PortRange EVERYTHING = new PortRange(ANY_PROTOCOL, 0, 65535);

    PortRange {
        if (first < 0 || last > 65535 || first > last) {
            throw new IllegalArgumentException("port range " + first + ".." + last);
        }
    }
}
