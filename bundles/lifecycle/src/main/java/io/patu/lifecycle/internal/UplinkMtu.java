package io.patu.lifecycle.internal;

import java.util.List;
import java.util.OptionalInt;

import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.Route;
import io.patu.kernel.netlink.RtNetlink;

/**
 * The MTU of traffic that leaves the node, per address family (docs/mtu.md): the configured
 * {@code uplinkMtu}, or else what the host's default routes of that family go through, the lowest of
 * them (a route's own MTU metric counts, else its device's MTU), or {@link #FALLBACK} when the host has
 * no default route of that family. Read at every ADD, so a changed uplink applies to the next pod.
 */
final class UplinkMtu {
    /** Ethernet's MTU, what a host without a default route most likely gets one through later. */
    static final int FALLBACK = 1500;

    private final int configured;

    /** {@code configured} 0: found from the host's routes. */
    UplinkMtu(int configured) {
        if (configured != 0 && (configured < NetworkConfig.MIN_MTU || configured > NetworkConfig.MAX_MTU)) {
            throw new IllegalArgumentException("uplinkMtu must be 0 (found from the default route) or "
                    + NetworkConfig.MIN_MTU + ".." + NetworkConfig.MAX_MTU + ": " + configured);
        }
        this.configured = configured;
    }

    /** The uplink MTU of {@code family} ({@link RtNetlink#AF_INET} or {@link RtNetlink#AF_INET6}), read through {@code host}. */
    int of(RtNetlink host, int family) {
        if (configured != 0) {
            return configured;
        }
        return lowest(host.routes(family), host.links()).orElse(FALLBACK);
    }

    /** The lowest MTU of the default routes among {@code routes}; empty when there is none. */
    static OptionalInt lowest(List<Route> routes, List<Link> links) {
        return routes.stream().filter(r -> r.prefixLength() == 0).mapToInt(route -> {
            int device = links.stream().filter(l -> l.index() == route.outIfIndex()).mapToInt(Link::mtu)
                    .findFirst().orElse(0);
            if (route.mtu() > 0 && (device == 0 || route.mtu() < device)) {
                return route.mtu();
            }
            return device;
        }).filter(mtu -> mtu > 0).min();
    }
}
