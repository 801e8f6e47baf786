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
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.CniError;
import io.patu.api.IpAllocator;
import io.patu.api.IpamRequest;
import io.patu.api.PatuException;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodRoute;
import io.patu.ipam.internal.LeaseStore.Leased;

/**
 * Allocates pod addresses host-local style: one address from each range set of the attachment's plan (its
 * network configuration's {@code ipam} object, or this component's configuration), so a plan with an IPv4
 * and an IPv6 range set makes a dual-stack pod. Leases are kept in the state directory; every mutation is
 * persisted before it is answered, so a restart never hands out an address twice. An address is never in
 * two leases, whatever plans they came from.
 */
@Component(service = {IpAllocator.class, HostLocalAllocator.class}, configurationPid = IpAllocator.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = HostLocalAllocator.Config.class)
public final class HostLocalAllocator implements IpAllocator {

    @ObjectClassDefinition(name = "Patu IPAM", description = "Pod address allocation on this node")
    public @interface Config {
        @AttributeDefinition(description = "Pod subnet in CIDR form; pods whose network configuration has no ipam"
                + " ranges get an address from it")
        String subnet() default "10.77.0.0/16";

        @AttributeDefinition(description = "Gateway address (the bridge's); empty means the subnet's first host address")
        String gateway() default "";

        @AttributeDefinition(description = "A host-local ipam object (JSON text: ranges, routes) used instead of"
                + " subnet and gateway for pods whose network configuration has none; empty for none")
        String ipam() default "";

        @AttributeDefinition(description = "Directory for persistent state; leases go to <stateDir>/ipam/leases.json")
        String stateDir() default "/var/lib/patu";
    }

    private final IpamConfig defaults;
    private final LeaseStore store;
    private final Map<PodId, List<Leased>> leases = new LinkedHashMap<>();
    private final Map<RangeSet, InetAddress> cursors = new LinkedHashMap<>();

    @Activate
    public HostLocalAllocator(Config config) {
        IpamConfig own = IpamConfig.single(config.subnet(), config.gateway().isBlank() ? null : config.gateway());
        if (!config.ipam().isBlank()) {
            try {
                own = IpamConfig.parse(config.ipam(), own);
            } catch (PatuException e) {
                throw new IllegalArgumentException(PID + " " + e.getMessage(), e);
            }
        }
        this.defaults = own;
        this.store = new LeaseStore(Path.of(config.stateDir(), "ipam"));
        try {
            LeaseStore.Snapshot snapshot = store.load(defaults);
            leases.putAll(snapshot.leases());
            cursors.putAll(snapshot.cursors());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized List<PodAddress> allocate(PodId id, IpamRequest request) {
        // The request is validated even when the lease exists: bad input is an error whatever the state.
        IpamConfig plan = request.ipamConfigJson() == null ? defaults : IpamConfig.parse(request.ipamConfigJson(), defaults);
        List<InetAddress> requested = requestedAddresses(request.requestedIps());
        List<Leased> existing = leases.get(id);
        if (existing != null) {
            return addresses(existing);
        }
        Set<InetAddress> taken = takenAddresses();
        InetAddress[] chosen = new InetAddress[plan.rangeSets().size()];
        for (InetAddress address : requested) {
            int set = setFor(plan, address);
            if (chosen[set] != null) {
                throw IpamConfig.invalid("requested addresses " + chosen[set].getHostAddress() + " and "
                        + address.getHostAddress() + " are from the same range set; a pod gets one address a range set");
            }
            if (taken.contains(address)) {
                throw IpamConfig.invalid("requested address " + address.getHostAddress() + " is already leased to "
                        + holderOf(address));
            }
            chosen[set] = address;
        }
        Map<RangeSet, InetAddress> previousCursors = new LinkedHashMap<>(cursors);
        List<Leased> lease = new ArrayList<>();
        Set<Boolean> familiesRouted = new HashSet<>();
        for (int i = 0; i < chosen.length; i++) {
            RangeSet set = plan.rangeSets().get(i);
            Set<InetAddress> unavailable = new HashSet<>(taken);
            lease.forEach(l -> unavailable.add(l.address().address()));
            for (InetAddress other : chosen) {
                if (other != null) {
                    unavailable.add(other);
                }
            }
            InetAddress address = chosen[i];
            if (address == null) {
                address = set.next(cursors.get(set), unavailable).orElseThrow(() -> new PatuException(CniError.TRY_AGAIN,
                        "no free address left in " + describe(set) + " (" + leases.size() + " leases held)",
                        "release pods or configure larger ranges", null));
                cursors.put(set, address);
            }
            AddressRange range = set.rangeOf(address).orElseThrow();
            // Extra routes of a family go with the pod's first address of that family.
            List<PodRoute> routes = familiesRouted.add(set.isIpv4()) ? plan.routesOf(set.isIpv4()) : List.of();
            lease.add(new Leased(new PodAddress(address, range.subnet().prefixLength(), range.gateway(), routes), set));
        }
        leases.put(id, List.copyOf(lease));
        try {
            persist();
        } catch (IOException e) {
            leases.remove(id);
            cursors.clear();
            cursors.putAll(previousCursors);
            throw new PatuException(CniError.IO_FAILURE, "cannot persist the lease of " + id + ": " + e.getMessage(),
                    store.file().toString(), e);
        }
        return addresses(lease);
    }

    @Override
    public synchronized boolean release(PodId id) {
        List<Leased> removed = leases.remove(id);
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
        return Optional.ofNullable(leases.get(id)).map(l -> new Lease(id, addresses(l)));
    }

    @Override
    public synchronized long freeAddresses() {
        Set<InetAddress> taken = takenAddresses();
        BigInteger free = defaults.rangeSets().stream().map(set -> set.free(taken))
                .min(BigInteger::compareTo).orElse(BigInteger.ZERO);
        return free.min(BigInteger.valueOf(Long.MAX_VALUE)).longValue();
    }

    @Override
    public synchronized List<Lease> leases() {
        List<Lease> out = new ArrayList<>();
        leases.forEach((id, l) -> out.add(new Lease(id, addresses(l))));
        return out;
    }

    /** A range set's use, for {@link IpamMetrics}: {@code configured} for the allocator's own sets. */
    record Pool(RangeSet set, boolean configured, long leased) {
    }

    /** The allocator's own range sets, then those of network configurations' ipam objects that leases use. */
    synchronized List<Pool> pools() {
        Map<RangeSet, long[]> leased = new LinkedHashMap<>();
        defaults.rangeSets().forEach(set -> leased.put(set, new long[1]));
        leases.values().forEach(lease -> lease.forEach(l -> leased.computeIfAbsent(l.rangeSet(), set -> new long[1])[0]++));
        List<Pool> pools = new ArrayList<>();
        leased.forEach((set, count) -> pools.add(new Pool(set, defaults.rangeSets().contains(set), count[0])));
        return pools;
    }

    /** Where leases are written, for {@link IpamHealth}. */
    Path leaseFile() {
        return store.file();
    }

    /** Requested addresses as IP literals; a {@code /prefix} suffix is allowed and not looked at. */
    private static List<InetAddress> requestedAddresses(List<String> requestedIps) {
        List<InetAddress> out = new ArrayList<>();
        for (String text : requestedIps) {
            if (text == null) {
                throw IpamConfig.invalid("a requested address is null");
            }
            String literal = text.strip();
            int slash = literal.indexOf('/');
            try {
                if (slash >= 0) {
                    Subnet.parseMasked(literal);
                    literal = literal.substring(0, slash);
                }
                InetAddress address = Subnet.parseLiteral(literal);
                if (out.contains(address)) {
                    throw IpamConfig.invalid("address " + address.getHostAddress() + " is requested twice");
                }
                out.add(address);
            } catch (IllegalArgumentException e) {
                throw IpamConfig.invalid("requested address '" + text + "' is not valid: " + e.getMessage());
            }
        }
        return out;
    }

    private static int setFor(IpamConfig plan, InetAddress address) {
        for (int i = 0; i < plan.rangeSets().size(); i++) {
            RangeSet set = plan.rangeSets().get(i);
            if (set.rangeOf(address).isPresent()) {
                return i;
            }
            for (AddressRange range : set.ranges()) {
                if (range.gateway().equals(address)) {
                    throw IpamConfig.invalid("requested address " + address.getHostAddress() + " is the gateway of "
                            + range.subnet());
                }
            }
        }
        throw IpamConfig.invalid("requested address " + address.getHostAddress() + " is outside every range: "
                + plan.rangeSets().stream().map(HostLocalAllocator::describe).toList());
    }

    private PodId holderOf(InetAddress address) {
        return leases.entrySet().stream()
                .filter(e -> e.getValue().stream().anyMatch(l -> l.address().address().equals(address)))
                .map(Map.Entry::getKey).findFirst().orElse(null);
    }

    private Set<InetAddress> takenAddresses() {
        Set<InetAddress> taken = new HashSet<>();
        leases.values().forEach(l -> l.forEach(leased -> taken.add(leased.address().address())));
        return taken;
    }

    private static List<PodAddress> addresses(List<Leased> lease) {
        return lease.stream().map(Leased::address).toList();
    }

    private static String describe(RangeSet set) {
        return set.ranges().size() == 1 && isWholeSubnet(set.ranges().getFirst())
                ? set.ranges().getFirst().subnet().toString() : set.toString();
    }

    private static boolean isWholeSubnet(AddressRange range) {
        AddressRange whole = AddressRange.of(range.subnet().toString(), null, null, range.gateway().getHostAddress());
        return whole.equals(range);
    }

    private void persist() throws IOException {
        // Cursors of range sets that nothing refers to any more are dropped, so the file does not grow forever.
        Set<RangeSet> inUse = new HashSet<>(defaults.rangeSets());
        leases.values().forEach(l -> l.forEach(leased -> inUse.add(leased.rangeSet())));
        cursors.keySet().retainAll(inUse);
        store.save(new LeaseStore.Snapshot(cursors, leases));
    }
}
