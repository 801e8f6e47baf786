package io.patu.api.metrics;

import java.util.Arrays;
import java.util.Objects;

/** One series of a {@link MetricFamily}: its labels and its value(s). */
public sealed interface Sample {
    Labels labels();

    /** The value of a counter or gauge series. Counters are never negative. */
    record Value(Labels labels, double value) implements Sample {
        public Value {
            Objects.requireNonNull(labels, "labels");
        }
    }

    /**
     * A histogram series, as a source keeps it: how many observations fell at or below each upper bound
     * (cumulative, as Prometheus exposes them), their sum, and their count (the {@code +Inf} bucket).
     *
     * @param upperBounds strictly increasing, finite
     * @param cumulative  one count per upper bound, never decreasing, none above {@code count}
     */
    record Histogram(Labels labels, double[] upperBounds, long[] cumulative, double sum, long count) implements Sample {
        public Histogram {
            Objects.requireNonNull(labels, "labels");
            upperBounds = upperBounds.clone();
            cumulative = cumulative.clone();
            if (upperBounds.length != cumulative.length) {
                throw new IllegalArgumentException("a histogram needs one count per upper bound");
            }
            for (int i = 0; i < upperBounds.length; i++) {
                if (!Double.isFinite(upperBounds[i]) || i > 0 && upperBounds[i] <= upperBounds[i - 1]) {
                    throw new IllegalArgumentException("histogram upper bounds must be finite and increasing: "
                            + Arrays.toString(upperBounds));
                }
                if (cumulative[i] < (i == 0 ? 0 : cumulative[i - 1]) || cumulative[i] > count) {
                    throw new IllegalArgumentException("histogram bucket counts must be cumulative and at most the count: "
                            + Arrays.toString(cumulative) + ", count " + count);
                }
            }
        }

        @Override
        public double[] upperBounds() {
            return upperBounds.clone();
        }

        @Override
        public long[] cumulative() {
            return cumulative.clone();
        }
    }
}
