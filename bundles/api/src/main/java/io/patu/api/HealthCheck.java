package io.patu.api;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A bundle's own answer to "is what I own in place and working?": for a datapath, its programs attached and
 * running and its maps readable; for lifecycle, the CNI socket served. Readiness (the metrics bundle's
 * {@code /readyz}, {@code bin/patu status}) and the trial of an over-the-air update consult every registered
 * check, so a bundle registers one for each thing whose absence would make the node not do its job.
 *
 * <p>Checks are called from probes and scrapes: they must be cheap (no walk over every pod's map entries),
 * must not block on the bundle's own locks for long, and report failures as problems rather than throwing.
 */
@ConsumerType
public interface HealthCheck {
    /** Service property: the name of what is checked, e.g. the feature name ({@code sockmap}, {@code lifecycle}). */
    String NAME = "patu.health.name";

    /** What is wrong now, one sentence each, for a person to read; empty when healthy. */
    List<String> problems();
}
