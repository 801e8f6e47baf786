package io.patu.api.metrics;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class MetricFamilyTest {
    @Test
    void namesFollowTheConventions() {
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.gauge("cni_calls", "no prefix", 1));
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.gauge("patu_Pods", "upper case", 1));
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.counter("patu_cni_calls", "counter without _total", 1));
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.gauge("patu_pods_total", "gauge with _total", 1));
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.gauge("patu_x_bucket", "histogram suffix", 1));
        assertThrows(IllegalArgumentException.class, () -> MetricFamily.gauge("patu_x", "two\nlines", 1));
    }

    @Test
    void samplesMatchTheTypeAndHaveDistinctLabels() {
        Sample.Value one = new Sample.Value(Labels.of("verb", "ADD"), 1);
        assertThrows(IllegalArgumentException.class, () -> new MetricFamily("patu_x_total", MetricType.COUNTER, "x",
                List.of(one, new Sample.Value(Labels.of("verb", "ADD"), 2))));
        assertThrows(IllegalArgumentException.class, () -> new MetricFamily("patu_x_seconds", MetricType.HISTOGRAM, "x",
                List.of(one)));
    }

    @Test
    void labelsAndHistogramsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Labels.of("le", "1"));
        assertThrows(IllegalArgumentException.class, () -> Labels.of("__name__", "x"));
        assertThrows(IllegalArgumentException.class, () -> Labels.of("a", "1", "a", "2"));
        assertThrows(IllegalArgumentException.class, () -> new Sample.Histogram(Labels.NONE, new double[] {1, 0.5},
                new long[] {0, 0}, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sample.Histogram(Labels.NONE, new double[] {1, 2},
                new long[] {2, 1}, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> new Sample.Histogram(Labels.NONE, new double[] {1},
                new long[] {3}, 0, 2));
    }
}
