package io.patu.ipam.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

/** Pool size and addresses in use per range set, and the leases held. */
@Component(service = MetricsSource.class, property = MetricsSource.NAME + "=ipam")
public final class IpamMetrics implements MetricsSource {
    private final HostLocalAllocator allocator;

    @Activate
    public IpamMetrics(@Reference HostLocalAllocator allocator) {
        this.allocator = allocator;
    }

    @Override
    public List<MetricFamily> collect() {
        List<HostLocalAllocator.Pool> pools = allocator.pools();
        List<Sample> size = new ArrayList<>();
        List<Sample> leased = new ArrayList<>();
        for (HostLocalAllocator.Pool pool : pools) {
            Labels labels = Labels.of("range_set", label(pool.set()), "family", pool.set().isIpv4() ? "ipv4" : "ipv6",
                    "source", pool.configured() ? "agent" : "netconf");
            size.add(new Sample.Value(labels, pool.set().capacity().doubleValue()));
            leased.add(new Sample.Value(labels, pool.leased()));
        }
        return List.of(
                new MetricFamily("patu_ipam_pool_addresses", MetricType.GAUGE,
                        "Addresses a range set can hand out (gateways excluded); source agent: io.patu.ipam's own,"
                                + " netconf: a network configuration's ipam object that leases use", size),
                new MetricFamily("patu_ipam_pool_addresses_leased", MetricType.GAUGE,
                        "Addresses of the range set leased to pods", leased),
                MetricFamily.gauge("patu_ipam_leases", "Leases held (one per attachment)", allocator.leases().size()),
                MetricFamily.gauge("patu_ipam_free_addresses",
                        "Attachments that can still get an address from the agent's own range sets (0: ADD fails)",
                        allocator.freeAddresses()));
    }

    /** A range set as a label: each range as its subnet when it is the whole subnet, else first-last. */
    static String label(RangeSet set) {
        return set.ranges().stream().map(range -> {
            AddressRange whole = AddressRange.of(range.subnet().toString(), null, null, range.gateway().getHostAddress());
            return whole.equals(range) ? range.subnet().toString()
                    : range.start().getHostAddress() + "-" + range.end().getHostAddress();
        }).collect(Collectors.joining(","));
    }
}
