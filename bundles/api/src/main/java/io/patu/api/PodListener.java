package io.patu.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service: every registered listener is told about each pod the lifecycle bundle networks.
 * A listener that registers late (a feature bundle started at runtime) is first replayed every pod that
 * already exists, so it can build its kernel state for them.
 *
 * <p>Calls are serialised by the lifecycle bundle. A listener that throws fails the CNI call it is part of
 * (on ADD) or is logged and skipped (on DEL, which must succeed whatever is left).
 */
@ConsumerType
public interface PodListener {
    void podAdded(Pod pod);

    void podRemoved(Pod pod);

    /**
     * True if this listener publishes the pods' {@link Pod#portMappings()} itself. The lifecycle refuses an ADD
     * with port mappings when no listener does, rather than let a pod run with ports nobody serves.
     */
    default boolean servesPortMappings() {
        return false;
    }
}
