package io.patu.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Whether the node does its job now: the one answer behind {@code /readyz}, {@code patu:health} and
 * {@code bin/patu status}. Provided by the lifecycle bundle, which owns the CNI socket and the features;
 * it asks every {@link HealthCheck} for its problems and adds its own rules (see {@link ReadinessReport}).
 */
@ProviderType
public interface Readiness {
    /**
     * Framework property listing the features the agent's profile requires, comma-separated
     * ({@code ipam,sockmap}); {@code bin/patu} sets it from the profile's {@code require} lines.
     */
    String REQUIRED_FEATURES_PROPERTY = "patu.features.required";

    /** Asks every check now; as cheap as the checks are (no map walks). */
    ReadinessReport check();
}
