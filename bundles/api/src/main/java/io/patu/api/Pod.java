package io.patu.api;

import java.util.List;
import java.util.Objects;

/**
 * A pod interface that the lifecycle bundle has networked: its plain-path plumbing (host veth on the
 * bridge) and its addresses. Datapath bundles accelerate traffic for the pods they are told about.
 *
 * @param id          the CNI attachment
 * @param netns       path of the pod's network namespace, as the runtime gave it
 * @param hostVeth    name of the host-side veth, attached to the bridge
 * @param hostIfIndex ifindex of the host-side veth in the host namespace
 * @param mac         MAC address of the pod-side interface
 * @param addresses   addresses of the pod-side interface, one per family at most
 */
public record Pod(PodId id, String netns, String hostVeth, int hostIfIndex, String mac, List<PodAddress> addresses) {
    public Pod {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(netns, "netns");
        Objects.requireNonNull(hostVeth, "hostVeth");
        Objects.requireNonNull(mac, "mac");
        addresses = List.copyOf(addresses);
    }
}
