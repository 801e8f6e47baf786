package io.patu.api;

import java.util.Objects;

/**
 * Identifies one attachment of a container to the network, as the CNI spec does:
 * a container may have several interfaces, each one a separate attachment.
 */
public record PodId(String containerId, String ifName) {
    public PodId {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(ifName, "ifName");
    }

    @Override
    public String toString() {
        return containerId + "/" + ifName;
    }
}
