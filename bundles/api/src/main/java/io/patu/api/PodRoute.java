package io.patu.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * A route a pod gets besides its default route: a destination prefix and an optional next hop.
 *
 * @param destination  network address of the destination prefix
 * @param prefixLength its length
 * @param gateway      next hop, or null for the gateway of the pod address of the same family
 */
public record PodRoute(InetAddress destination, int prefixLength, InetAddress gateway) {
    public PodRoute {
        Objects.requireNonNull(destination, "destination");
        int max = destination instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for " + destination);
        }
        if (gateway != null && (gateway instanceof Inet4Address) != (destination instanceof Inet4Address)) {
            throw new IllegalArgumentException("route to " + destination.getHostAddress() + "/" + prefixLength
                    + " has a gateway of the other family: " + gateway.getHostAddress());
        }
    }

    public boolean isIpv4() {
        return destination instanceof Inet4Address;
    }

    /** True for 0.0.0.0/0 and ::/0. */
    public boolean isDefault() {
        return prefixLength == 0;
    }

    /** CIDR notation of the destination, as CNI results carry it. */
    public String cidr() {
        return destination.getHostAddress() + "/" + prefixLength;
    }
}
