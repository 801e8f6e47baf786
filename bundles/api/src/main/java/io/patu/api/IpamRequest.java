package io.patu.api;

import java.util.List;

/**
 * What a CNI ADD asks of the address allocator, beyond the attachment it is for.
 *
 * @param ipamConfigJson raw JSON text of the network configuration's {@code ipam} object, or null to use the
 *                       allocator's own configuration (Configuration Admin, PID {@link IpAllocator#PID})
 * @param requestedIps   specific addresses the runtime asks for (the {@code ips} capability, passed as
 *                       {@code runtimeConfig.ips}), each an IP literal with an optional {@code /prefix};
 *                       empty when it asks for none
 */
public record IpamRequest(String ipamConfigJson, List<String> requestedIps) {
    /** No configuration of its own, no specific address: the allocator's defaults. */
    public static final IpamRequest DEFAULTS = new IpamRequest(null, List.of());

    public IpamRequest {
        requestedIps = requestedIps == null ? List.of() : List.copyOf(requestedIps);
    }
}
