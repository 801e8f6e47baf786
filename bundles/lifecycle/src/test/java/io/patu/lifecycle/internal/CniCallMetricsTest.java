package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.Sample;

class CniCallMetricsTest {
    @TempDir
    Path state;

    @Test
    void callsCountByVerbAndResultWithTheErrorCodeAndTheirTime() throws Exception {
        CniVerbs verbs = OfflineVerbs.create(state);
        CniCallMetrics metrics = new CniCallMetrics();
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"patu\"}";
        metrics.observe(CniVerbsInputTest.frame(OfflineVerbs.env("VERSION"), config), verbs::handle, () -> 0);
        // ADD with a netns that does not exist: error 4 (invalid environment) from the real verbs.
        metrics.observe(CniVerbsInputTest.frame(OfflineVerbs.env("ADD"), config), verbs::handle, () -> 3);
        metrics.observe("garbage".getBytes(), verbs::handle, () -> 3);

        List<MetricFamily> families = metrics.families();
        MetricFamily calls = family(families, "patu_cni_calls_total");
        assertEquals(1.0, value(calls, Labels.of("verb", "VERSION", "result", "success")));
        assertEquals(0.0, value(calls, Labels.of("verb", "VERSION", "result", "error")));
        assertEquals(1.0, value(calls, Labels.of("verb", "ADD", "result", "error")));
        assertEquals(1.0, value(calls, Labels.of("verb", "unknown", "result", "error")));
        MetricFamily errors = family(families, "patu_cni_errors_total");
        assertEquals(1.0, value(errors, Labels.of("verb", "ADD", "code", "4")));
        Sample.Histogram version = (Sample.Histogram) family(families, "patu_cni_call_duration_seconds").samples().stream()
                .filter(s -> s.labels().equals(Labels.of("verb", "VERSION"))).findFirst().orElseThrow();
        assertEquals(1, version.count());
        assertEquals(1, version.cumulative()[version.cumulative().length - 1], "a VERSION call takes less than 10 s");
        assertEquals(3.0, value(family(families, "patu_pods"), Labels.NONE));
    }

    @Test
    void histogramBucketsAreCumulative() {
        CniCallMetrics metrics = new CniCallMetrics();
        metrics.record("ADD", WireResponse.success(new byte[0]), 3_000_000);   // 3 ms
        metrics.record("ADD", WireResponse.success(new byte[0]), 40_000_000);  // 40 ms
        Sample.Histogram add = (Sample.Histogram) family(metrics.families(), "patu_cni_call_duration_seconds").samples().getFirst();
        double[] bounds = add.upperBounds();
        long[] counts = add.cumulative();
        for (int i = 0; i < bounds.length; i++) {
            long expected = (bounds[i] >= 0.003 ? 1 : 0) + (bounds[i] >= 0.04 ? 1 : 0);
            assertEquals(expected, counts[i], "bucket le=" + bounds[i]);
        }
        assertEquals(0.043, add.sum(), 1e-9);
    }

    static MetricFamily family(List<MetricFamily> families, String name) {
        return families.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    static double value(MetricFamily family, Labels labels) {
        return family.samples().stream().filter(s -> s.labels().equals(labels)).map(s -> ((Sample.Value) s).value())
                .findFirst().orElseThrow(() -> new AssertionError(family.name() + " has no sample " + labels));
    }
}
