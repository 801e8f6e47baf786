package io.patu.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * One address given to a pod interface, with the prefix and gateway of the range it came from, and the
 * extra routes of its family that the pod gets through that gateway (beyond its default route).
 *
 * @param routes routes of the same family as the address; empty for none
 */
public record PodAddress(InetAddress address, int prefixLength, InetAddress gateway, List<PodRoute> routes) {
    public PodAddress {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(gateway, "gateway");
        int max = address instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for " + address);
        }
        if ((gateway instanceof Inet4Address) != (address instanceof Inet4Address)) {
            throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " is not of the family of "
                    + address.getHostAddress());
        }
        routes = routes == null ? List.of() : List.copyOf(routes);
        for (PodRoute route : routes) {
            if (route.isIpv4() != (address instanceof Inet4Address)) {
                throw new IllegalArgumentException("route " + route.cidr() + " is not of the family of "
                        + address.getHostAddress());
            }
        }
    }

    /** An address without extra routes. */
    public PodAddress(InetAddress address, int prefixLength, InetAddress gateway) {
        this(address, prefixLength, gateway, List.of());
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    /** CIDR notation of the address with its prefix, as CNI results carry it. */
    public String cidr() {
        return address.getHostAddress() + "/" + prefixLength;
    }
}
