package io.patu.ipam.internal;

import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.IpAllocator;
import io.patu.api.PodAddress;
import io.patu.api.TextTable;

/** {@code patu:leases}: the addresses this node has handed out. */
@Component(service = LeaseCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=leases"})
public final class LeaseCommands {
    private final IpAllocator allocator;

    @Activate
    public LeaseCommands(@Reference IpAllocator allocator) {
        this.allocator = allocator;
    }

    public String leases() {
        return table(allocator.leases());
    }

    static String table(List<IpAllocator.Lease> leases) {
        if (leases.isEmpty()) {
            return "no leases";
        }
        List<List<String>> rows = new ArrayList<>();
        for (IpAllocator.Lease lease : leases) {
            for (PodAddress address : lease.addresses()) {
                rows.add(List.of(lease.id().containerId(), lease.id().ifName(), address.cidr(),
                        address.gateway().getHostAddress()));
            }
        }
        return new TextTable(List.of("CONTAINER", "IFNAME", "ADDRESS", "GATEWAY"), rows).render().stripTrailing();
    }
}
