package io.patu.api.metrics;

/** The Prometheus metric types a {@link MetricFamily} can have. */
public enum MetricType {
    /** Only goes up (restarts from zero when the agent or the kernel object does); name ends in {@code _total}. */
    COUNTER("counter"),
    /** A value that goes up and down. */
    GAUGE("gauge"),
    /** Observations counted in buckets, with their sum and count: {@link Sample.Histogram} samples. */
    HISTOGRAM("histogram");

    private final String exposition;

    MetricType(String exposition) {
        this.exposition = exposition;
    }

    /** The word on the family's {@code # TYPE} line. */
    public String exposition() {
        return exposition;
    }
}
