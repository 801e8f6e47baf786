package io.patu.lifecycle.internal;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodRoute;
import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * The plain path, as the reference bridge plugin builds it: a Linux bridge holding the gateway addresses,
 * and per pod a veth pair with one end on the bridge and the other in the pod's namespace, addressed and
 * default-routed through the gateway of each address family (IPv4, IPv6 or both), plus the extra routes
 * its addresses carry. Every accelerator is an optimisation of this path. All of it goes
 * through rtnetlink: no subprocess on the ADD/DEL path.
 *
 * <p>MTUs (docs/mtu.md): the bridge and the veths run at the node-local MTU, so traffic between local pods
 * and to the node's address on the bridge is cut into packets of up to 64 KiB instead of 1500 bytes; every
 * route of the pod that leads off the node (the default route, extra routes outside the pod's subnets)
 * carries the uplink's MTU as its metric, so that what leaves the node is sized for the uplink by the
 * pod's own stack: TCP's MSS, UDP fragmentation or EMSGSIZE, path MTU discovery below it.
 */
final class PodPlumbing {
    private static final InetAddress ANY_V4 = InetAddress.ofLiteral("0.0.0.0");
    private static final InetAddress ANY_V6 = InetAddress.ofLiteral("::");

    private final String bridgeName;
    private final int mtu;
    private final UplinkMtu uplink;

    /** {@code mtu}: the node-local MTU (bridge and veths); {@code uplink}: the MTU of what leaves the node. */
    PodPlumbing(String bridgeName, int mtu, UplinkMtu uplink) {
        if (mtu < NetworkConfig.MIN_MTU || mtu > NetworkConfig.MAX_MTU) {
            throw new IllegalArgumentException("mtu must be " + NetworkConfig.MIN_MTU + ".." + NetworkConfig.MAX_MTU + ": " + mtu);
        }
        this.bridgeName = bridgeName;
        this.mtu = mtu;
        this.uplink = uplink;
    }

    /** The bridge the pods' host veths are attached to (GC looks for leftovers there). */
    String bridgeName() {
        return bridgeName;
    }

    /**
     * Wires a pod; on failure removes what it created and rethrows. Returns the pod, its host veth MAC and
     * its veth MTU: {@code attachmentMtu} (the conflist's {@code mtu}), or the node-local MTU when that is 0.
     */
    Wired wire(PodId id, Path netns, List<PodAddress> addresses, int attachmentMtu) {
        String hostVeth = HostVethNames.of(id);
        int vethMtu = attachmentMtu == 0 ? mtu : attachmentMtu;
        try (RtNetlink host = RtNetlink.open()) {
            ensureBridge(host, addresses);
            int uplink4 = uplink.of(host, RtNetlink.AF_INET);
            int uplink6 = uplink.of(host, RtNetlink.AF_INET6);
            // A leftover from an interrupted ADD of the same attachment would make the create fail.
            host.deleteLink(hostVeth);
            host.createVethPair(hostVeth, id.ifName(), netns);
            try {
                host.setMtu(hostVeth, vethMtu);
                host.setMaster(hostVeth, bridgeName);
                host.setUp(hostVeth);
                String podMac;
                try (RtNetlink pod = RtNetlink.openIn(netns)) {
                    pod.setUp("lo");
                    pod.setMtu(id.ifName(), vethMtu);
                    if (addresses.stream().anyMatch(a -> !a.isIpv4())) {
                        // Usable at once: no duplicate address detection (the allocator guarantees uniqueness
                        // on the bridge) and no router advertisements adding addresses or routes of their own.
                        ipv6Sysctl(netns, id.ifName(), "accept_dad", "0");
                        ipv6Sysctl(netns, id.ifName(), "accept_ra", "0");
                    }
                    for (PodAddress address : addresses) {
                        pod.addAddress(id.ifName(), address.address(), address.prefixLength());
                    }
                    pod.setUp(id.ifName());
                    for (PodRoute route : routes(addresses)) {
                        pod.addRoute(route.isDefault() ? null : route.destination(), route.prefixLength(),
                                route.gateway(), id.ifName(),
                                routeMtu(route, addresses, vethMtu, route.isIpv4() ? uplink4 : uplink6));
                    }
                    podMac = pod.link(id.ifName()).orElseThrow(() -> missing(id.ifName(), netns)).mac();
                }
                Link hostLink = host.link(hostVeth).orElseThrow(() -> missing(hostVeth, null));
                Pod wired = new Pod(id, netns.toString(), hostVeth, hostLink.index(), podMac, addresses);
                return new Wired(wired, hostLink.mac(), vethMtu, uplink4, uplink6);
            } catch (RuntimeException e) {
                host.deleteLink(hostVeth);
                throw e;
            }
        }
    }

    /** A wired pod, its host veth's MAC, its veth MTU and the uplink MTUs its routes were given. */
    record Wired(Pod pod, String hostVethMac, int mtu, int uplinkMtu4, int uplinkMtu6) {
        /** The MTU metric of {@code route} of this pod, 0 for none. */
        int routeMtu(PodRoute route) {
            return PodPlumbing.routeMtu(route, pod.addresses(), mtu, route.isIpv4() ? uplinkMtu4 : uplinkMtu6);
        }
    }

    /**
     * The MTU metric a pod route gets: none when the route stays on the node (its destination lies in one
     * of the pod's subnets) or when the uplink takes packets as large as the veth's (the plain layout);
     * else the uplink's MTU.
     */
    static int routeMtu(PodRoute route, List<PodAddress> addresses, int vethMtu, int uplinkMtu) {
        if (uplinkMtu >= vethMtu) {
            return 0;
        }
        boolean podRange = addresses.stream().anyMatch(a -> a.isIpv4() == route.isIpv4()
                && route.prefixLength() >= a.prefixLength()
                && samePrefix(route.destination(), a.address(), a.prefixLength()));
        return podRange ? 0 : uplinkMtu;
    }

    private static boolean samePrefix(InetAddress a, InetAddress b, int prefixLength) {
        byte[] x = a.getAddress();
        byte[] y = b.getAddress();
        for (int bit = 0; bit < prefixLength; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((x[bit / 8] & mask) != (y[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The routes a pod with these addresses gets, each with its gateway: per address family, a default
     * route through the gateway of the pod's first address of that family (or through the gateway of a
     * default route its routes list), then that address's other routes, through its gateway unless they
     * name their own.
     */
    static List<PodRoute> routes(List<PodAddress> addresses) {
        List<PodRoute> out = new ArrayList<>();
        Set<Boolean> families = new HashSet<>();
        for (PodAddress address : addresses) {
            if (!families.add(address.isIpv4())) {
                continue;
            }
            InetAddress defaultGateway = address.routes().stream().filter(r -> r.isDefault() && r.gateway() != null)
                    .map(PodRoute::gateway).findFirst().orElse(address.gateway());
            out.add(new PodRoute(address.isIpv4() ? ANY_V4 : ANY_V6, 0, defaultGateway));
            for (PodRoute route : address.routes()) {
                PodRoute resolved = new PodRoute(route.destination(), route.prefixLength(),
                        route.gateway() != null ? route.gateway() : address.gateway());
                if (!route.isDefault() && !out.contains(resolved)) {
                    out.add(resolved);
                }
            }
        }
        return out;
    }

    /** Writes /proc/sys/net/ipv6/conf/IFNAME/KEY as seen from inside {@code netns} (null: the agent's own). */
    private static void ipv6Sysctl(Path netns, String ifName, String key, String value) {
        Path file = Path.of("/proc/sys/net/ipv6/conf", ifName, key);
        Callable<Void> write = () -> {
            Files.writeString(file, value);
            return null;
        };
        try {
            if (netns == null) {
                write.call();
            } else {
                NetNs.callIn(netns, write);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted writing " + file, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot set " + file + " to " + value + (netns == null ? "" : " in " + netns)
                    + " (is IPv6 disabled?): " + e, e);
        }
    }

    /** Removes the pod's veth pair (deleting one end removes both). False if it was already gone. */
    boolean unwire(PodId id) {
        try (RtNetlink host = RtNetlink.open()) {
            return host.deleteLink(HostVethNames.of(id));
        }
    }

    /** What CHECK finds wrong with a wired pod, or null if the kernel matches the registry. */
    String verify(Pod pod) {
        try (RtNetlink host = RtNetlink.open()) {
            Link hostLink = host.link(pod.hostVeth()).orElse(null);
            if (hostLink == null) {
                return "host veth " + pod.hostVeth() + " is missing";
            }
            Link bridge = host.link(bridgeName).orElse(null);
            if (bridge == null || hostLink.masterIndex() != bridge.index()) {
                return "host veth " + pod.hostVeth() + " is not attached to bridge " + bridgeName;
            }
        }
        Path netns = Path.of(pod.netns());
        try (RtNetlink inPod = RtNetlink.openIn(netns)) {
            Link link = inPod.link(pod.id().ifName()).orElse(null);
            if (link == null) {
                return "interface " + pod.id().ifName() + " is missing in " + pod.netns();
            }
            if (!link.up()) {
                return "interface " + pod.id().ifName() + " is down";
            }
            List<Address> present = inPod.addresses(pod.id().ifName());
            for (PodAddress address : pod.addresses()) {
                if (!present.contains(new Address(address.address(), address.prefixLength()))) {
                    return "address " + address.cidr() + " is missing on " + pod.id().ifName();
                }
            }
            for (PodRoute route : routes(pod.addresses())) {
                int family = route.isIpv4() ? RtNetlink.AF_INET : RtNetlink.AF_INET6;
                boolean routed = inPod.routes(family).stream().anyMatch(r -> (route.isDefault()
                        ? r.destination() == null || r.prefixLength() == 0
                        : route.destination().equals(r.destination()) && route.prefixLength() == r.prefixLength())
                        && route.gateway().equals(r.gateway()) && r.outIfIndex() == link.index());
                if (!routed) {
                    return (route.isDefault() ? "default route" : "route to " + route.cidr()) + " via "
                            + route.gateway().getHostAddress() + " is missing";
                }
            }
        }
        return null;
    }

    private void ensureBridge(RtNetlink host, List<PodAddress> addresses) {
        if (host.link(bridgeName).isEmpty()) {
            try {
                host.createBridge(bridgeName);
            } catch (NativeException e) {
                if (e.errno() != Errno.EEXIST) {
                    throw e;
                }
            }
            if (mtu == host.link(bridgeName).map(Link::mtu).orElse(0)) {
                // The kernel takes an MTU as the operator's choice only when it changes: through a detour, a
                // bridge created at 1500 for mtu 1500 keeps it when a pod with a smaller MTU joins.
                host.setMtu(bridgeName, mtu == NetworkConfig.MIN_MTU ? mtu + 1 : mtu - 1);
            }
        }
        // Set explicitly, so one pod with a smaller conflist MTU does not lower the bridge for everyone.
        if (host.link(bridgeName).map(Link::mtu).orElse(0) != mtu) {
            host.setMtu(bridgeName, mtu);
        }
        List<Address> present = host.addresses(bridgeName);
        if (addresses.stream().anyMatch(a -> !a.isIpv4()
                && !present.contains(new Address(a.gateway(), a.prefixLength())))) {
            // The gateway must answer neighbour solicitations at once, not after DAD (a second or more).
            ipv6Sysctl(null, bridgeName, "accept_dad", "0");
        }
        for (PodAddress address : addresses) {
            Address gateway = new Address(address.gateway(), address.prefixLength());
            if (!present.contains(gateway)) {
                try {
                    host.addAddress(bridgeName, gateway.address(), gateway.prefixLength());
                } catch (NativeException e) {
                    if (e.errno() != Errno.EEXIST) {
                        throw e;
                    }
                }
            }
        }
        host.setUp(bridgeName);
    }

    private static IllegalStateException missing(String ifName, Path netns) {
        return new IllegalStateException("interface " + ifName + " vanished right after it was created"
                + (netns == null ? "" : " in " + netns));
    }
}
