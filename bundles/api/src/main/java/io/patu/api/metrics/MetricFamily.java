package io.patu.api.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One metric: its name, type, help text and samples (one per label set). Validated on construction, so
 * an exposition built from families is valid whatever bundle made them.
 *
 * @param name    {@code patu_...}, letters, digits and underscores; a counter's ends with {@code _total},
 *                a histogram's with a unit such as {@code _seconds}
 * @param type    counter, gauge or histogram
 * @param help    one line for a person: what is counted, in which unit
 * @param samples {@link Sample.Value}s for counters and gauges, {@link Sample.Histogram}s for histograms;
 *                no two with the same labels
 */
public record MetricFamily(String name, MetricType type, String help, List<Sample> samples) {
    private static final Pattern NAME = Pattern.compile("patu_[a-z0-9_]*[a-z0-9]");
    /** Suffixes the exposition adds itself: a family named with one would clash with a histogram's series. */
    private static final List<String> RESERVED_SUFFIXES = List.of("_bucket", "_count", "_sum");

    public MetricFamily {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(help, "help");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("metric name '" + name + "' must be patu_ followed by lower-case"
                    + " letters, digits and underscores");
        }
        if (type == MetricType.COUNTER != name.endsWith("_total")) {
            throw new IllegalArgumentException("metric " + name + ": a counter's name, and only a counter's, ends with _total");
        }
        for (String suffix : RESERVED_SUFFIXES) {
            if (name.endsWith(suffix)) {
                throw new IllegalArgumentException("metric " + name + " ends with " + suffix + ", which histograms use");
            }
        }
        if (help.isBlank() || help.contains("\n")) {
            throw new IllegalArgumentException("metric " + name + ": help is one non-empty line");
        }
        samples = List.copyOf(samples);
        Set<Labels> seen = new HashSet<>();
        for (Sample sample : samples) {
            boolean histogram = sample instanceof Sample.Histogram;
            if (histogram != (type == MetricType.HISTOGRAM)) {
                throw new IllegalArgumentException("metric " + name + " is a " + type.exposition() + ", a sample of it is "
                        + (histogram ? "a histogram" : "a single value"));
            }
            if (!seen.add(sample.labels())) {
                throw new IllegalArgumentException("metric " + name + " has two samples labelled " + sample.labels());
            }
        }
    }

    /** A counter with one unlabelled sample. */
    public static MetricFamily counter(String name, String help, double value) {
        return new MetricFamily(name, MetricType.COUNTER, help, List.of(new Sample.Value(Labels.NONE, value)));
    }

    /** A gauge with one unlabelled sample. */
    public static MetricFamily gauge(String name, String help, double value) {
        return new MetricFamily(name, MetricType.GAUGE, help, List.of(new Sample.Value(Labels.NONE, value)));
    }
}
