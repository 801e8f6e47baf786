package io.patu.ipam.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The ipam feature's health: an ADD without an ipam object of its own can get an address (the same rule
 * as CNI STATUS), and leases can be written.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=ipam")
public final class IpamHealth implements HealthCheck {
    private final HostLocalAllocator allocator;

    @Activate
    public IpamHealth(@Reference HostLocalAllocator allocator) {
        this.allocator = allocator;
    }

    @Override
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (allocator.freeAddresses() == 0) {
            problems.add("the pod address pool is exhausted (" + allocator.leases().size()
                    + " leases): ADD fails with error 11 until pods are deleted or the subnet grows");
        }
        // The directory is created with the first lease: until then its closest existing ancestor must be writable.
        Path directory = allocator.leaseFile().toAbsolutePath().getParent();
        while (directory.getParent() != null && !Files.exists(directory)) {
            directory = directory.getParent();
        }
        if (!Files.isDirectory(directory) || !Files.isWritable(directory)) {
            problems.add("leases cannot be saved: " + directory + " is not a writable directory");
        }
        return problems;
    }
}
