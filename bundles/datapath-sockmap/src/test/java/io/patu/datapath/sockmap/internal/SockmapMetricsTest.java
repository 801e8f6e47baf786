package io.patu.datapath.sockmap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

import org.junit.jupiter.api.Test;

import io.patu.api.PodId;
import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.Sample;

class SockmapMetricsTest {
    @Test
    void everyKernelCounterHasAMetricAndPodsAreLabelledByAttachmentAndAddress() {
        SequencedMap<String, Long> totals = new LinkedHashMap<>();
        for (int i = 0; i < SockmapLayouts.SOCKMAP_COUNTERS.memberLayouts().size(); i++) {
            totals.put(SockmapLayouts.SOCKMAP_COUNTERS.memberLayouts().get(i).name().orElseThrow(), 100L + i);
        }
        List<MetricFamily> families = SockmapMetrics.families(totals, List.of(
                new SockmapDatapath.PodCounters(InetAddress.ofLiteral("10.77.0.2"), new PodId("c1", "eth0"), 10, 4000),
                new SockmapDatapath.PodCounters(InetAddress.ofLiteral("fd00::3"), null, 2, 96)));
        double sum = families.stream().filter(f -> !f.name().contains("_pod_")).flatMap(f -> f.samples().stream())
                .mapToDouble(s -> ((Sample.Value) s).value()).sum();
        // Each of the 12 kernel counters appears once in the node-wide families: 100 + ... + 111.
        assertEquals(12 * 100 + 66, sum);
        assertEquals(101.0, value(families, "patu_sockmap_redirected_bytes_total", Labels.NONE));
        assertEquals(108.0, value(families, "patu_sockmap_path_switches_total", Labels.of("to", "plain", "reason", "backpressure")));
        assertEquals(4000.0, value(families, "patu_sockmap_pod_redirected_bytes_total",
                Labels.of("container", "c1", "interface", "eth0", "address", "10.77.0.2")));
        assertEquals(2.0, value(families, "patu_sockmap_pod_redirected_messages_total",
                Labels.of("container", "", "interface", "", "address", "fd00::3")));
    }

    @Test
    void ipv6AddressesAreCompressed() {
        assertEquals("fd00::3", SockmapMetrics.text(InetAddress.ofLiteral("fd00::3")));
        assertEquals("fd00:1::2:0:0:3", SockmapMetrics.text(InetAddress.ofLiteral("fd00:1:0:0:2:0:0:3")));
        assertEquals("::1", SockmapMetrics.text(InetAddress.ofLiteral("::1")));
        assertEquals("fd00:1:2:3:4:5:6:0", SockmapMetrics.text(InetAddress.ofLiteral("fd00:1:2:3:4:5:6:0")));
        assertEquals("10.77.0.2", SockmapMetrics.text(InetAddress.ofLiteral("10.77.0.2")));
    }

    private static double value(List<MetricFamily> families, String name, Labels labels) {
        return families.stream().filter(f -> f.name().equals(name)).flatMap(f -> f.samples().stream())
                .filter(s -> s.labels().equals(labels)).map(s -> ((Sample.Value) s).value()).findFirst()
                .orElseThrow(() -> new AssertionError(name + " " + labels));
    }
}
