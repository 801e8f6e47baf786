package io.patu.lifecycle.internal;

import java.util.LinkedHashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodId;

/** What a GC call (spec 1.1.0) says must stay: the attachments the runtime still knows about. */
final class GcRequest {
    static final String VALID_ATTACHMENTS = "cni.dev/valid-attachments";

    private GcRequest() {
    }

    /**
     * The {@code cni.dev/valid-attachments} list, as attachment ids. Refuses a configuration without it:
     * taking a missing list for an empty one would delete every pod of the network.
     */
    static Set<PodId> validAttachments(NetworkConfig config) {
        JsonNode list = config.raw().get(VALID_ATTACHMENTS);
        if (list == null || !list.isArray()) {
            throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "GC needs \"" + VALID_ATTACHMENTS
                    + "\", a list of {\"containerID\", \"ifname\"} objects (an empty list if none is valid)");
        }
        Set<PodId> valid = new LinkedHashSet<>();
        int index = 0;
        for (JsonNode entry : list) {
            JsonNode containerId = entry.get("containerID");
            JsonNode ifName = entry.get("ifname");
            if (!entry.isObject() || containerId == null || !containerId.isTextual() || ifName == null
                    || !ifName.isTextual()) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "\"" + VALID_ATTACHMENTS + "\"[" + index
                        + "] must be an object with the strings \"containerID\" and \"ifname\"");
            }
            valid.add(new PodId(containerId.asText(), ifName.asText()));
            index++;
        }
        return valid;
    }
}
