package io.patu.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

class ExpositionTest {
    @Test
    void counterAndGaugeWithHelpTypeAndSortedLabels() {
        String text = Exposition.render(List.of(
                new MetricFamily("patu_cni_calls_total", MetricType.COUNTER, "CNI calls", List.of(
                        new Sample.Value(Labels.of("verb", "ADD", "result", "success"), 3),
                        new Sample.Value(Labels.of("verb", "DEL", "result", "error"), 1))),
                MetricFamily.gauge("patu_pods", "Pods", 2)));
        assertEquals("""
                # HELP patu_cni_calls_total CNI calls
                # TYPE patu_cni_calls_total counter
                patu_cni_calls_total{result="success",verb="ADD"} 3
                patu_cni_calls_total{result="error",verb="DEL"} 1
                # HELP patu_pods Pods
                # TYPE patu_pods gauge
                patu_pods 2
                """, text);
    }

    @Test
    void histogramHasCumulativeBucketsInfSumAndCount() {
        String text = Exposition.render(List.of(new MetricFamily("patu_cni_call_duration_seconds", MetricType.HISTOGRAM,
                "Time to answer", List.of(new Sample.Histogram(Labels.of("verb", "ADD"), new double[] {0.005, 0.01, 1},
                        new long[] {1, 3, 4}, 0.5, 5)))));
        assertEquals("""
                # HELP patu_cni_call_duration_seconds Time to answer
                # TYPE patu_cni_call_duration_seconds histogram
                patu_cni_call_duration_seconds_bucket{verb="ADD",le="0.005"} 1
                patu_cni_call_duration_seconds_bucket{verb="ADD",le="0.01"} 3
                patu_cni_call_duration_seconds_bucket{verb="ADD",le="1"} 4
                patu_cni_call_duration_seconds_bucket{verb="ADD",le="+Inf"} 5
                patu_cni_call_duration_seconds_sum{verb="ADD"} 0.5
                patu_cni_call_duration_seconds_count{verb="ADD"} 5
                """, text);
    }

    @Test
    void labelValuesAndHelpAreEscaped() {
        String text = Exposition.render(List.of(new MetricFamily("patu_x", MetricType.GAUGE, "a \\ b",
                List.of(new Sample.Value(Labels.of("container", "a\"b\\c\nd"), 1)))));
        assertTrue(text.contains("# HELP patu_x a \\\\ b\n"), text);
        assertTrue(text.contains("patu_x{container=\"a\\\"b\\\\c\\nd\"} 1\n"), text);
    }

    @Test
    void numbersAsPrometheusParsesThem() {
        assertEquals("1234567890123", Exposition.number(1234567890123.0));
        assertEquals("0.25", Exposition.number(0.25));
        assertEquals("+Inf", Exposition.number(Double.POSITIVE_INFINITY));
        assertEquals("NaN", Exposition.number(Double.NaN));
        assertEquals("1.0E300", Exposition.number(1e300));
    }

    @Test
    void sourcesMergeByNameAndABrokenOneIsLeftOutAndCounted() {
        MetricsSource one = () -> List.of(new MetricFamily("patu_feature_active", MetricType.GAUGE, "Feature active",
                List.of(new Sample.Value(Labels.of("feature", "sockmap"), 1))));
        MetricsSource two = () -> List.of(new MetricFamily("patu_feature_active", MetricType.GAUGE, "Other help",
                List.of(new Sample.Value(Labels.of("feature", "ipam"), 0))));
        MetricsSource clash = () -> List.of(MetricFamily.counter("patu_x_total", "x", 1),
                new MetricFamily("patu_feature_active", MetricType.GAUGE, "again",
                        List.of(new Sample.Value(Labels.of("feature", "ipam"), 1))));
        MetricsSource broken = () -> {
            throw new IllegalStateException("map gone");
        };
        Scrape scrape = new Scrape();
        String text = Exposition.render(scrape.collect(List.of(new Scrape.Named("one", one), new Scrape.Named("two", two),
                new Scrape.Named("broken", broken), new Scrape.Named("clash", clash))));
        assertEquals("""
                # HELP patu_feature_active Feature active
                # TYPE patu_feature_active gauge
                patu_feature_active{feature="sockmap"} 1
                patu_feature_active{feature="ipam"} 0
                # HELP patu_x_total x
                # TYPE patu_x_total counter
                patu_x_total 1
                # HELP patu_metrics_source_failures_total Scrapes that left out a metrics source's families because it failed or clashed with another source
                # TYPE patu_metrics_source_failures_total counter
                patu_metrics_source_failures_total{source="broken"} 1
                patu_metrics_source_failures_total{source="clash"} 1
                """, text);
    }
}
