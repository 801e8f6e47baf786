package io.patu.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Pods' traffic leaving the node, as the egress feature handles it. Registered while that feature runs;
 * its absence means nothing is masqueraded. Lifecycle consults it so that a network configuration's
 * {@code ipMasq} that contradicts the node is refused instead of silently ignored.
 */
@ProviderType
public interface Egress {
    /** Configuration PID of the egress bundle. */
    String PID = "io.patu.egress";

    /**
     * Whether traffic of this family from a pod to a destination outside the node's pod subnets (and not
     * excluded) leaves with the node's address as its source.
     */
    boolean masquerades(boolean ipv4);
}
