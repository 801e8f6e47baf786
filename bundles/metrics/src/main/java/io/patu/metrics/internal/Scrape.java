package io.patu.metrics.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

/**
 * Asks every source for its families and merges them into one list in which each name appears once:
 * families of the same name and type from two sources are one family (the first help text wins); a later
 * family of another type, or a sample whose labels another source already gave, is left out and counted
 * as that source's failure, as is a source that throws. A broken source never breaks the scrape.
 */
final class Scrape {
    private static final Logger LOG = Logger.getLogger(Scrape.class.getName());

    /** A registered source and its name (service property {@link MetricsSource#NAME}). */
    record Named(String name, MetricsSource source) {
    }

    /** Failures by source name, for patu_metrics_source_failures_total; lives as long as the server. */
    private final Map<String, AtomicLong> failures = new TreeMap<>();
    /** Sources whose failure was already logged at WARNING, so a broken one does not flood the log. */
    private final Set<String> warned = new HashSet<>();

    List<MetricFamily> collect(List<Named> sources) {
        Map<String, Merged> byName = new LinkedHashMap<>();
        for (Named named : sources) {
            List<MetricFamily> families;
            try {
                families = named.source().collect();
            } catch (RuntimeException | LinkageError e) {
                fail(named.name(), "failed", e);
                continue;
            }
            for (MetricFamily family : families) {
                Merged merged = byName.get(family.name());
                if (merged == null) {
                    byName.put(family.name(), new Merged(family));
                } else if (merged.first.type() != family.type()) {
                    fail(named.name(), "gave " + family.name() + " as a " + family.type().exposition() + ", another source as a "
                            + merged.first.type().exposition(), null);
                } else if (!merged.add(family.samples())) {
                    fail(named.name(), "gave samples of " + family.name() + " that another source already gave", null);
                }
            }
        }
        List<MetricFamily> out = new ArrayList<>(byName.size() + 1);
        byName.values().forEach(m -> out.add(m.family()));
        out.add(failureFamily());
        return out;
    }

    private synchronized void fail(String source, String what, Throwable cause) {
        failures.computeIfAbsent(source, s -> new AtomicLong()).incrementAndGet();
        Level level = warned.add(source) ? Level.WARNING : Level.FINE;
        LOG.log(level, "metrics source " + source + " " + what + "; its metrics are left out of this scrape", cause);
    }

    private synchronized MetricFamily failureFamily() {
        List<Sample> samples = new ArrayList<>();
        failures.forEach((source, count) -> samples.add(new Sample.Value(Labels.of("source", source), count.get())));
        return new MetricFamily("patu_metrics_source_failures_total", MetricType.COUNTER,
                "Scrapes that left out a metrics source's families because it failed or clashed with another source",
                samples);
    }

    private static final class Merged {
        final MetricFamily first;
        final List<Sample> samples = new ArrayList<>();
        final Set<Labels> labels = new HashSet<>();

        Merged(MetricFamily first) {
            this.first = first;
            add(first.samples());
        }

        /** Adds the samples unless one repeats a label set already there; false then, and nothing is added. */
        boolean add(List<Sample> more) {
            for (Sample sample : more) {
                if (labels.contains(sample.labels())) {
                    return false;
                }
            }
            for (Sample sample : more) {
                labels.add(sample.labels());
                samples.add(sample);
            }
            return true;
        }

        MetricFamily family() {
            return samples.size() == first.samples().size() ? first
                    : new MetricFamily(first.name(), first.type(), first.help(), samples);
        }
    }
}
