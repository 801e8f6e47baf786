package io.patu.api.metrics;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service: a bundle's own metrics, read on every scrape. Register one per bundle (or per
 * component that owns the data), with the service property {@link #NAME} naming it for error reports.
 *
 * <p>Rules a source follows, so that any mix of sources makes one valid exposition:
 * <ul>
 * <li>Names start with {@code patu_} and the bundle's own prefix ({@code patu_sockmap_}, {@code patu_ipam_});
 *     units are in the name, in base units ({@code _seconds}, {@code _bytes}); counters end with
 *     {@code _total}. {@link MetricFamily} refuses names that break these rules.</li>
 * <li>Cheap: called from the scraping thread, at most a few times a minute, but also in loops by
 *     benchmarks. Read each kernel map in one pass (a batch lookup), never one lookup per pod on top of a
 *     walk; do not block on locks a CNI call may hold for long.</li>
 * <li>Label values are bounded: one per pod, range set, verb, feature; never a per-connection value.</li>
 * <li>A source that cannot read its data throws; the scrape leaves that source out, counts the failure in
 *     {@code patu_metrics_source_failures_total{source=NAME}} and goes on with the others.</li>
 * </ul>
 */
@ConsumerType
public interface MetricsSource {
    /** Service property: the source's name, e.g. {@code lifecycle}, {@code sockmap}. */
    String NAME = "patu.metrics.source";

    /** The source's metric families now; a family with no sample may be left out. */
    List<MetricFamily> collect();
}
