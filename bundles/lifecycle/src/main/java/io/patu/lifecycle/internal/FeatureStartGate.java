package io.patu.lifecycle.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;

import io.patu.api.Readiness;
import io.patu.api.ReadinessReport;

/**
 * Holds pod ADDs back while a feature of the agent's profile is starting, so that no pod is networked in
 * the moment between the CNI socket being served and, say, the policy feature enforcing: a pod added then
 * would run unisolated until the feature caught up.
 *
 * <p>A feature is <em>started</em> once its bundle is active and its health checks have reported no problem
 * at least once since the bundle last started (for policy: the first policy generation is in the kernel).
 * While the framework is still launching, every feature that is not disabled is expected to start. After
 * that, a feature whose bundle is stopped (by hand, or because it failed) does not hold ADDs back: like a
 * disabled one it is off, and readiness reports it. A feature being (re)started, by {@code patu:enable}, an
 * over-the-air update or a bundle restart, holds them back again until it is started.
 *
 * <p>An ADD waits up to a bound for the features to start, then is refused with CNI error 11 (try again
 * later) and changes nothing. A feature that never starts costs that wait once: until a bundle changes, the
 * next ADDs are refused at once, so the single CNI thread is not held by each of them.
 */
final class FeatureStartGate implements AutoCloseable {
    private final BundleContext context;
    private final Supplier<FeatureManager> features;
    private final Supplier<Readiness> readiness;
    /** Features seen started since their bundle last (re)started. */
    private final Set<String> started = ConcurrentHashMap.newKeySet();
    /** Counts feature bundle events: a mark taken across one is not trusted. */
    private final AtomicLong bundleEvents = new AtomicLong();
    /** The value of bundleEvents when an ADD last gave up waiting; -1 when none did. */
    private volatile long gaveUpAt = -1;
    private final SynchronousBundleListener listener = this::bundleChanged;

    FeatureStartGate(BundleContext context, Supplier<FeatureManager> features, Supplier<Readiness> readiness) {
        this.context = context;
        this.features = features;
        this.readiness = readiness;
        context.addBundleListener(listener);
    }

    private void bundleChanged(BundleEvent event) {
        if (FeatureManager.featureName(event.getBundle()).isEmpty()) {
            return;
        }
        switch (event.getType()) {
            case BundleEvent.STARTING, BundleEvent.STARTED, BundleEvent.STOPPING, BundleEvent.STOPPED,
                 BundleEvent.UPDATED, BundleEvent.UNRESOLVED, BundleEvent.INSTALLED, BundleEvent.UNINSTALLED -> {
                FeatureManager.featureName(event.getBundle()).ifPresent(name -> {
                    if (event.getType() != BundleEvent.STARTED) {
                        started.remove(name);
                    }
                });
                bundleEvents.incrementAndGet();
            }
            default -> {
            }
        }
    }

    /** What is still starting, one line a feature ({@code name: why}); empty when ADDs may go on. */
    List<String> starting() {
        long events = bundleEvents.get();
        FeatureManager manager = features.get();
        if (manager == null) {
            return List.of("features: the feature manager is not running yet");
        }
        Readiness check = readiness.get();
        Map<String, ReadinessReport.Entry> entries = check == null ? Map.of() : check.check().entries().stream()
                .filter(ReadinessReport.Entry::feature).collect(Collectors.toMap(ReadinessReport.Entry::name, e -> e, (a, b) -> a));
        boolean launching = context.getBundle(0).getState() != Bundle.ACTIVE;
        List<String> pending = starting(manager.list(), entries, launching, started);
        if (bundleEvents.get() != events) {
            // A feature bundle changed while we looked: what was seen started may be its previous run.
            started.clear();
            return starting();
        }
        return pending;
    }

    /**
     * The rules, from plain values: features not yet started, marking those found started in {@code started}.
     *
     * @param launching whether the framework is still starting its bundles
     */
    static List<String> starting(List<FeatureManager.Feature> features, Map<String, ReadinessReport.Entry> entries,
                                 boolean launching, Set<String> started) {
        List<String> pending = new ArrayList<>();
        for (FeatureManager.Feature feature : features) {
            String name = feature.name();
            switch (feature.state()) {
                case DISABLED, NOT_INSTALLED -> {
                    // Off on purpose: it holds nothing back (policy disabled: every pod unrestricted).
                }
                case STOPPED -> {
                    if (launching || feature.bundle() != null && feature.bundle().getState() == Bundle.STARTING) {
                        pending.add(name + ": not started yet");
                    }
                }
                case ACTIVE -> {
                    if (started.contains(name)) {
                        continue;
                    }
                    ReadinessReport.Entry entry = entries.get(name);
                    if (entry != null && entry.problems().isEmpty()) {
                        started.add(name);
                    } else {
                        pending.add(name + ": " + (entry == null ? "starting" : String.join("; ", entry.problems())));
                    }
                }
            }
        }
        return pending;
    }

    /**
     * Waits until no feature is starting, at most {@code timeoutMillis} (not at all when the last wait gave
     * up and no feature bundle changed since); returns what is still starting, empty when ADDs may go on.
     */
    List<String> await(long timeoutMillis) throws InterruptedException {
        List<String> pending = starting();
        if (pending.isEmpty()) {
            return pending;
        }
        if (gaveUpAt == bundleEvents.get()) {
            return pending;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
            pending = starting();
        }
        if (!pending.isEmpty()) {
            gaveUpAt = bundleEvents.get();
        }
        return pending;
    }

    @Override
    public void close() {
        context.removeBundleListener(listener);
    }
}
