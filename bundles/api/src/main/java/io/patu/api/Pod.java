package io.patu.api;

import java.util.List;
import java.util.Objects;

/**
 * A pod interface that the lifecycle bundle has networked: its plain-path plumbing (host veth on the
 * bridge), its addresses, and who the runtime said it is.
 *
 * @param id          the CNI attachment
 * @param netns       path of the pod's network namespace, as the runtime gave it
 * @param hostVeth    name of the host-side veth, attached to the bridge
 * @param hostIfIndex ifindex of the host-side veth in the host namespace
 * @param mac         MAC address of the pod-side interface
 * @param addresses   addresses of the pod-side interface, one per family at most
 * @param identity    namespace, name, uid from {@code CNI_ARGS}; {@link PodIdentity#NONE} when none was given
 * @param portMappings ports published to the pod ({@code runtimeConfig.portMappings}); empty for none
 */
public record Pod(PodId id, String netns, String hostVeth, int hostIfIndex, String mac, List<PodAddress> addresses,
                  PodIdentity identity, List<PortMapping> portMappings) {
    public Pod {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(netns, "netns");
        Objects.requireNonNull(hostVeth, "hostVeth");
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(identity, "identity");
        addresses = List.copyOf(addresses);
        portMappings = portMappings == null ? List.of() : List.copyOf(portMappings);
    }

    /** A pod publishing no port. */
    public Pod(PodId id, String netns, String hostVeth, int hostIfIndex, String mac, List<PodAddress> addresses,
               PodIdentity identity) {
        this(id, netns, hostVeth, hostIfIndex, mac, addresses, identity, List.of());
    }

    /** A pod without identity, as before {@link PodIdentity} existed. */
    public Pod(PodId id, String netns, String hostVeth, int hostIfIndex, String mac, List<PodAddress> addresses) {
        this(id, netns, hostVeth, hostIfIndex, mac, addresses, PodIdentity.NONE);
    }

    /** The same pod with another identity. */
    public Pod withIdentity(PodIdentity newIdentity) {
        return new Pod(id, netns, hostVeth, hostIfIndex, mac, addresses, newIdentity, portMappings);
    }

    /** The same pod publishing these ports. */
    public Pod withPortMappings(List<PortMapping> newPortMappings) {
        return new Pod(id, netns, hostVeth, hostIfIndex, mac, addresses, identity, newPortMappings);
    }
}
