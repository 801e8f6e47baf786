package io.patu.ipam.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.CniError;
import io.patu.api.IpAllocator;
import io.patu.api.PatuException;
import io.patu.api.PodAddress;
import io.patu.api.PodId;

/**
 * Allocates pod addresses from one subnet on this node, host-local style, with leases kept in the state
 * directory. Every mutation is persisted before it is answered, so a restart never hands out an address
 * twice.
 */
@Component(service = IpAllocator.class, configurationPid = IpAllocator.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = HostLocalAllocator.Config.class)
public final class HostLocalAllocator implements IpAllocator {

    @ObjectClassDefinition(name = "Patu IPAM", description = "Pod address allocation on this node")
    public @interface Config {
        @AttributeDefinition(description = "Pod subnet in CIDR form; every pod on this node gets an address from it")
        String subnet() default "10.77.0.0/16";

        @AttributeDefinition(description = "Gateway address (the bridge's); empty means the subnet's first host address")
        String gateway() default "";

        @AttributeDefinition(description = "Directory for persistent state; leases go to <stateDir>/ipam/leases.json")
        String stateDir() default "/var/lib/patu";
    }

    private final AddressPool pool;
    private final LeaseStore store;
    private final Map<PodId, InetAddress> leases = new LinkedHashMap<>();
    private InetAddress last;

    @Activate
    public HostLocalAllocator(Config config) {
        Subnet subnet = Subnet.parse(config.subnet());
        InetAddress gateway = config.gateway().isBlank()
                ? AddressPool.firstHost(subnet) : Subnet.parseLiteral(config.gateway());
        this.pool = new AddressPool(subnet, gateway);
        this.store = new LeaseStore(Path.of(config.stateDir(), "ipam"));
        try {
            LeaseStore.Snapshot snapshot = store.load();
            snapshot.leases().forEach((id, address) -> {
                // Leases from another subnet (the configuration changed) are dropped: their pods must be
                // re-created to be reachable anyway.
                if (pool.isUsable(address)) {
                    leases.put(id, address);
                }
            });
            last = snapshot.last() == null ? null : Subnet.parseLiteral(snapshot.last());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized List<PodAddress> allocate(PodId id) {
        InetAddress existing = leases.get(id);
        if (existing != null) {
            return List.of(pool.toPodAddress(existing));
        }
        InetAddress address = pool.next(last, new HashSet<>(leases.values()))
                .orElseThrow(() -> new PatuException(CniError.TRY_AGAIN,
                        "no free address left in " + pool.subnet() + " (" + leases.size() + " leases held)",
                        "release pods or configure a larger subnet in " + PID, null));
        leases.put(id, address);
        InetAddress previousLast = last;
        last = address;
        try {
            persist();
        } catch (IOException e) {
            leases.remove(id);
            last = previousLast;
            throw new PatuException(CniError.IO_FAILURE, "cannot persist the lease of " + id + ": " + e.getMessage(),
                    store.file().toString(), e);
        }
        return List.of(pool.toPodAddress(address));
    }

    @Override
    public synchronized boolean release(PodId id) {
        InetAddress removed = leases.remove(id);
        if (removed == null) {
            return false;
        }
        try {
            persist();
        } catch (IOException e) {
            leases.put(id, removed);
            throw new PatuException(CniError.IO_FAILURE, "cannot persist the release of " + id + ": " + e.getMessage(),
                    store.file().toString(), e);
        }
        return true;
    }

    @Override
    public synchronized Optional<Lease> lease(PodId id) {
        return Optional.ofNullable(leases.get(id)).map(a -> new Lease(id, List.of(pool.toPodAddress(a))));
    }

    @Override
    public synchronized long freeAddresses() {
        BigInteger free = pool.capacity().subtract(BigInteger.valueOf(leases.size()));
        return free.min(BigInteger.valueOf(Long.MAX_VALUE)).max(BigInteger.ZERO).longValue();
    }

    @Override
    public synchronized List<Lease> leases() {
        List<Lease> out = new ArrayList<>();
        leases.forEach((id, address) -> out.add(new Lease(id, List.of(pool.toPodAddress(address)))));
        return out;
    }

    private void persist() throws IOException {
        store.save(new LeaseStore.Snapshot(pool.subnet().toString(),
                last == null ? null : last.getHostAddress(), leases));
    }
}
