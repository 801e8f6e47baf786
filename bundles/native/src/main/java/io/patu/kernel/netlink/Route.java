package io.patu.kernel.netlink;

import java.net.InetAddress;

/**
 * A route of the main routing table.
 *
 * @param destination  destination network; null for the default route
 * @param prefixLength destination prefix length (0 for the default route)
 * @param gateway      next hop; null for a directly connected destination
 * @param outIfIndex   index of the outgoing interface; 0 if the route has none
 * @param mtu          the route's MTU metric (RTAX_MTU); 0 when the route carries none and the
 *                     interface's MTU applies
 */
public record Route(InetAddress destination, int prefixLength, InetAddress gateway, int outIfIndex, int mtu) {
    /** A route without an MTU metric. */
    public Route(InetAddress destination, int prefixLength, InetAddress gateway, int outIfIndex) {
        this(destination, prefixLength, gateway, outIfIndex, 0);
    }
}
