package io.patu.api;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** Hands out pod addresses and remembers them across agent restarts. */
@ProviderType
public interface IpAllocator {
    /** Configuration PID of the IPAM bundle. */
    String PID = "io.patu.ipam";

    /**
     * Returns the addresses leased to this attachment, leasing them first if it has none: calling it twice
     * for the same attachment gives the same answer (the request is not looked at again once a lease exists).
     * A new lease holds one address per range set of the configuration in force: the request's
     * {@link IpamRequest#ipamConfigJson() ipam object} (host-local format) when it has one, the allocator's
     * own configuration otherwise. Addresses come back in range-set order, each with the extra routes of
     * its family.
     *
     * @throws PatuException with {@link CniError#INVALID_NETWORK_CONFIG} when the ipam object or a requested
     *                       address is invalid (malformed, outside every range, already taken); with
     *                       {@link CniError#TRY_AGAIN} when a range set has no free address. Nothing is
     *                       leased when it throws.
     */
    List<PodAddress> allocate(PodId id, IpamRequest request);

    /**
     * {@link #allocate(PodId, IpamRequest)} with the allocator's own configuration.
     *
     * @deprecated since 1.2: pass an {@link IpamRequest}
     */
    @Deprecated
    default List<PodAddress> allocate(PodId id) {
        return allocate(id, IpamRequest.DEFAULTS);
    }

    /** Releases the attachment's addresses; returns false if it held none. */
    boolean release(PodId id);

    /** The lease of one attachment, if it has one. */
    Optional<Lease> lease(PodId id);

    /**
     * How many more attachments could get an address now from the allocator's own configuration: zero means
     * the next ADD without an ipam object of its own would fail.
     */
    long freeAddresses();

    /** Every lease currently held. */
    List<Lease> leases();

    record Lease(PodId id, List<PodAddress> addresses) {
        public Lease {
            addresses = List.copyOf(addresses);
        }
    }
}
