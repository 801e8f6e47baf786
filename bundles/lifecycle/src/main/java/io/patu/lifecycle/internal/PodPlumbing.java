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
 */
final class PodPlumbing {
    private static final InetAddress ANY_V4 = InetAddress.ofLiteral("0.0.0.0");
    private static final InetAddress ANY_V6 = InetAddress.ofLiteral("::");

    private final String bridgeName;
    private final int mtu;

    PodPlumbing(String bridgeName, int mtu) {
        this.bridgeName = bridgeName;
        this.mtu = mtu;
    }

    /** The bridge the pods' host veths are attached to (GC looks for leftovers there). */
    String bridgeName() {
        return bridgeName;
    }

    /** Wires a pod; on failure removes what it created and rethrows. Returns the pod and its host veth MAC. */
    Wired wire(PodId id, Path netns, List<PodAddress> addresses) {
        String hostVeth = HostVethNames.of(id);
        try (RtNetlink host = RtNetlink.open()) {
            ensureBridge(host, addresses);
            // A leftover from an interrupted ADD of the same attachment would make the create fail.
            host.deleteLink(hostVeth);
            host.createVethPair(hostVeth, id.ifName(), netns);
            try {
                host.setMtu(hostVeth, mtu);
                host.setMaster(hostVeth, bridgeName);
                host.setUp(hostVeth);
                String podMac;
                try (RtNetlink pod = RtNetlink.openIn(netns)) {
                    pod.setUp("lo");
                    pod.setMtu(id.ifName(), mtu);
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
                                route.gateway(), id.ifName());
                    }
                    podMac = pod.link(id.ifName()).orElseThrow(() -> missing(id.ifName(), netns)).mac();
                }
                Link hostLink = host.link(hostVeth).orElseThrow(() -> missing(hostVeth, null));
                Pod wired = new Pod(id, netns.toString(), hostVeth, hostLink.index(), podMac, addresses);
                return new Wired(wired, hostLink.mac());
            } catch (RuntimeException e) {
                host.deleteLink(hostVeth);
                throw e;
            }
        }
    }

    record Wired(Pod pod, String hostVethMac) {
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
