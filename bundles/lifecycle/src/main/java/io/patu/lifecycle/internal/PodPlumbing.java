package io.patu.lifecycle.internal;

import java.nio.file.Path;
import java.util.List;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;

/**
 * The plain path, as the reference bridge plugin builds it: a Linux bridge holding the gateway address,
 * and per pod a veth pair with one end on the bridge and the other in the pod's namespace, addressed and
 * default-routed through the gateway. Every accelerator is an optimisation of this path. All of it goes
 * through rtnetlink: no subprocess on the ADD/DEL path.
 */
final class PodPlumbing {
    private final String bridgeName;
    private final int mtu;

    PodPlumbing(String bridgeName, int mtu) {
        this.bridgeName = bridgeName;
        this.mtu = mtu;
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
                    for (PodAddress address : addresses) {
                        pod.addAddress(id.ifName(), address.address(), address.prefixLength());
                    }
                    pod.setUp(id.ifName());
                    for (PodAddress address : addresses) {
                        pod.addRoute(null, 0, address.gateway(), id.ifName());
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
                int family = address.isIpv4() ? RtNetlink.AF_INET : RtNetlink.AF_INET6;
                boolean routed = inPod.routes(family).stream().anyMatch(r -> r.destination() == null
                        && address.gateway().equals(r.gateway()) && r.outIfIndex() == link.index());
                if (!routed) {
                    return "default route via " + address.gateway().getHostAddress() + " is missing";
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
