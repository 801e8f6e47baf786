package io.patu.api;

import java.util.SequencedMap;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A datapath accelerator: a feature that owns kernel objects and makes some pod traffic cheaper. Stopping
 * it must leave pods networked through the plain path.
 */
@ProviderType
public interface Datapath {
    /** Service property naming the feature, e.g. {@code sockmap}. */
    String FEATURE = "patu.feature";

    /** Short feature name, the same as the {@link #FEATURE} service property. */
    String feature();

    /** Counters read from the kernel, in display order. Names are lower_snake_case. */
    SequencedMap<String, Long> counters();
}
