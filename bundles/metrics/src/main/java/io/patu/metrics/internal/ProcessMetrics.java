package io.patu.metrics.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

/**
 * The agent process as an operator watches it: CPU time, resident memory, open descriptors, threads,
 * uptime, Java heap, and what runs (the agent's version, the JVM's, every bundle's version).
 *
 * <p>Read from {@code /proc/self} and {@link ProcessHandle}, not through the JDK's management beans: those
 * load JMX (several hundred classes and a few MiB) into an agent that otherwise never uses it.
 */
@Component(service = MetricsSource.class, property = MetricsSource.NAME + "=process")
public final class ProcessMetrics implements MetricsSource {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path FDS = Path.of("/proc/self/fd");

    private final BundleContext context;
    private final ProcessHandle.Info process = ProcessHandle.current().info();

    @Activate
    public ProcessMetrics(BundleContext context) {
        this.context = context;
    }

    @Override
    public List<MetricFamily> collect() {
        List<MetricFamily> families = new ArrayList<>();
        process.totalCpuDuration().ifPresent(cpu -> families.add(MetricFamily.counter("patu_process_cpu_seconds_total",
                "CPU time the agent process used, user and system, in seconds", seconds(cpu))));
        long[] status = rssAndThreads();
        families.add(MetricFamily.gauge("patu_process_resident_memory_bytes",
                "Resident set size of the agent process (VmRSS), in bytes", status[0]));
        families.add(MetricFamily.gauge("patu_process_threads", "Threads of the agent process", status[1]));
        families.add(MetricFamily.gauge("patu_process_open_fds", "File descriptors the agent process holds open",
                openFds()));
        process.startInstant().ifPresent(start -> {
            families.add(MetricFamily.gauge("patu_process_start_time_seconds",
                    "When the agent process started, in seconds since the Unix epoch", start.toEpochMilli() / 1000.0));
            families.add(MetricFamily.gauge("patu_process_uptime_seconds", "How long the agent process has run, in seconds",
                    seconds(Duration.between(start, Instant.now()))));
        });
        Runtime runtime = Runtime.getRuntime();
        families.add(MetricFamily.gauge("patu_jvm_heap_used_bytes", "Java heap in use, in bytes",
                runtime.totalMemory() - runtime.freeMemory()));
        families.add(MetricFamily.gauge("patu_jvm_heap_committed_bytes", "Java heap committed (at most -Xmx), in bytes",
                runtime.totalMemory()));
        families.add(new MetricFamily("patu_build_info", MetricType.GAUGE,
                "Always 1: the agent's version (its metrics bundle's) and the Java runtime's, as labels",
                List.of(new Sample.Value(Labels.of("version", context.getBundle().getVersion().toString(),
                        "java_version", Runtime.version().toString()), 1))));
        List<Sample> bundles = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName() != null) {
                bundles.add(new Sample.Value(Labels.of("bundle", bundle.getSymbolicName(),
                        "version", bundle.getVersion().toString()), bundle.getState() == Bundle.ACTIVE ? 1 : 0));
            }
        }
        families.add(new MetricFamily("patu_bundle_active", MetricType.GAUGE,
                "Installed bundles with their versions: 1 while active, 0 otherwise (the versions an update changes)",
                dedupe(bundles)));
        return families;
    }

    /** Two installed versions of one bundle are two series; the same one twice (never in Felix) only one. */
    private static List<Sample> dedupe(List<Sample> samples) {
        java.util.LinkedHashMap<Labels, Sample> unique = new java.util.LinkedHashMap<>();
        samples.forEach(s -> unique.putIfAbsent(s.labels(), s));
        return List.copyOf(unique.values());
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    /** VmRSS in bytes and Threads, from /proc/self/status (kB there). */
    static long[] rssAndThreads() {
        long[] out = new long[2];
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    out[0] = Long.parseLong(line.substring(6).replace("kB", "").strip()) * 1024;
                } else if (line.startsWith("Threads:")) {
                    out[1] = Long.parseLong(line.substring(8).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Entries of /proc/self/fd, less the one this listing opens. */
    static long openFds() {
        long count = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(FDS)) {
            for (Path ignored : fds) {
                count++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Math.max(0, count - 1);
    }
}
