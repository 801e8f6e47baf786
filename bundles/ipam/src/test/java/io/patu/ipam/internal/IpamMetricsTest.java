package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.patu.api.IpamRequest;
import io.patu.api.PodId;
import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.Sample;

class IpamMetricsTest {
    @TempDir
    Path state;

    private HostLocalAllocator allocator(String subnet) {
        return new HostLocalAllocator(Converters.standardConverter().convert(Map.of("subnet", subnet,
                "stateDir", state.toString())).to(HostLocalAllocator.Config.class));
    }

    @Test
    void poolSizeAndLeasesPerRangeSetIncludingANetconfOne() {
        HostLocalAllocator allocator = allocator("10.9.0.0/29");
        allocator.allocate(new PodId("a", "eth0"), IpamRequest.DEFAULTS);
        allocator.allocate(new PodId("b", "eth0"), new IpamRequest(
                "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.8.0.0/24\",\"rangeStart\":\"10.8.0.10\",\"rangeEnd\":\"10.8.0.19\"}]]}",
                List.of()));
        List<MetricFamily> families = new IpamMetrics(allocator).collect();
        Labels own = Labels.of("range_set", "10.9.0.0/29", "family", "ipv4", "source", "agent");
        Labels netconf = Labels.of("range_set", "10.8.0.10-10.8.0.19", "family", "ipv4", "source", "netconf");
        // A /29: 8 addresses less network, broadcast and gateway.
        assertEquals(5.0, value(families, "patu_ipam_pool_addresses", own));
        assertEquals(1.0, value(families, "patu_ipam_pool_addresses_leased", own));
        assertEquals(10.0, value(families, "patu_ipam_pool_addresses", netconf));
        assertEquals(1.0, value(families, "patu_ipam_pool_addresses_leased", netconf));
        assertEquals(2.0, value(families, "patu_ipam_leases", Labels.NONE));
        assertEquals(4.0, value(families, "patu_ipam_free_addresses", Labels.NONE));
    }

    @Test
    void anExhaustedPoolIsAHealthProblem() {
        HostLocalAllocator allocator = allocator("10.9.0.0/30");
        IpamHealth health = new IpamHealth(allocator);
        assertEquals(List.of(), health.problems());
        allocator.allocate(new PodId("a", "eth0"), IpamRequest.DEFAULTS);
        assertTrue(health.problems().getFirst().startsWith("the pod address pool is exhausted"), health.problems().toString());
    }

    private static double value(List<MetricFamily> families, String name, Labels labels) {
        return families.stream().filter(f -> f.name().equals(name)).flatMap(f -> f.samples().stream())
                .filter(s -> s.labels().equals(labels)).map(s -> ((Sample.Value) s).value()).findFirst()
                .orElseThrow(() -> new AssertionError(name + " " + labels));
    }
}
