/**
 * Metrics as any bundle contributes them: a bundle registers a {@link io.patu.api.metrics.MetricsSource}
 * service and the metrics feature (when installed) exposes what every source returns, in the Prometheus
 * text format. No bundle knows the metrics bundle; without it, sources are simply never asked.
 */
@Export
@Version("1.0.0")
package io.patu.api.metrics;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
