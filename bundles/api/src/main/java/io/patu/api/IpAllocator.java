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
     * for the same attachment gives the same answer.
     *
     * @throws PatuException with {@link CniError#TRY_AGAIN} when the pool is exhausted
     */
    List<PodAddress> allocate(PodId id);

    /** Releases the attachment's addresses; returns false if it held none. */
    boolean release(PodId id);

    /** The lease of one attachment, if it has one. */
    Optional<Lease> lease(PodId id);

    /** How many more attachments could get an address now: zero means the next ADD would fail. */
    long freeAddresses();

    /** Every lease currently held. */
    List<Lease> leases();

    record Lease(PodId id, List<PodAddress> addresses) {
        public Lease {
            addresses = List.copyOf(addresses);
        }
    }
}
