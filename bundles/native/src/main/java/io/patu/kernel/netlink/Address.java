package io.patu.kernel.netlink;

import java.net.InetAddress;

/**
 * An address configured on an interface.
 *
 * @param address      the interface's own address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6)
 * @param prefixLength length of the on-link prefix
 */
public record Address(InetAddress address, int prefixLength) {
}
