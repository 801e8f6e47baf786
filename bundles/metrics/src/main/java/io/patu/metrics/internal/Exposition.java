package io.patu.metrics.internal;

import java.util.List;
import java.util.Map;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.Sample;

/**
 * The Prometheus text exposition format, version 0.0.4: per family a {@code # HELP} and a {@code # TYPE}
 * line, then its samples, a histogram as {@code _bucket} series with {@code le} (ending with {@code +Inf}),
 * {@code _sum} and {@code _count}. Families arrive validated ({@link MetricFamily}) and merged
 * ({@link Scrape}), so every name appears once.
 */
final class Exposition {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private Exposition() {
    }

    static String render(List<MetricFamily> families) {
        StringBuilder out = new StringBuilder(families.size() * 128);
        for (MetricFamily family : families) {
            out.append("# HELP ").append(family.name()).append(' ');
            escapeHelp(family.help(), out);
            out.append("\n# TYPE ").append(family.name()).append(' ').append(family.type().exposition()).append('\n');
            for (Sample sample : family.samples()) {
                switch (sample) {
                    case Sample.Value value -> line(out, family.name(), value.labels(), null, value.value());
                    case Sample.Histogram histogram -> histogram(out, family.name(), histogram);
                }
            }
        }
        return out.toString();
    }

    private static void histogram(StringBuilder out, String name, Sample.Histogram histogram) {
        String bucket = name + "_bucket";
        double[] bounds = histogram.upperBounds();
        long[] counts = histogram.cumulative();
        for (int i = 0; i < bounds.length; i++) {
            line(out, bucket, histogram.labels(), number(bounds[i]), counts[i]);
        }
        line(out, bucket, histogram.labels(), "+Inf", histogram.count());
        line(out, name + "_sum", histogram.labels(), null, histogram.sum());
        line(out, name + "_count", histogram.labels(), null, histogram.count());
    }

    private static void line(StringBuilder out, String name, Labels labels, String le, double value) {
        out.append(name);
        if (!labels.map().isEmpty() || le != null) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, String> label : labels.map().entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(label.getKey()).append("=\"");
                escapeLabelValue(label.getValue(), out);
                out.append('"');
            }
            if (le != null) {
                out.append(first ? "" : ",").append("le=\"").append(le).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(number(value)).append('\n');
    }

    /** Integral values as integers (counters of bytes read best so), others as Java prints doubles, which Go parses. */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 0x1p63) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    /** In a label value: backslash, double quote and line feed are escaped. */
    static void escapeLabelValue(String value, StringBuilder out) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** In help text: backslash and line feed are escaped. */
    static void escapeHelp(String help, StringBuilder out) {
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }
}
