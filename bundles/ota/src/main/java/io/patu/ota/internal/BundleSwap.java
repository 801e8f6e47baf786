package io.patu.ota.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.FrameworkWiring;

import io.patu.api.Handover;

/**
 * Swaps running bundles for other jars of themselves: each is stopped, updated from its jar, then all are
 * refreshed and started. While a bundle is swapped it is told so ({@link Handover}): one that owns pinned
 * kernel state leaves it for the next revision instead of removing it.
 */
final class BundleSwap {
    private static final Logger LOG = Logger.getLogger(BundleSwap.class.getName());

    private final BundleContext context;
    private final HaltPoints halts;

    BundleSwap(BundleContext context, HaltPoints halts) {
        this.context = context;
        this.halts = halts;
    }

    /** Null when every bundle runs its jar (a null jar: left as it is) and is active again; why not otherwise. */
    String replace(Map<Bundle, Path> jars) {
        List<ServiceRegistration<Handover>> handovers = new ArrayList<>();
        try {
            for (Bundle bundle : jars.keySet()) {
                handovers.add(context.registerService(Handover.class, new Handover() { },
                        new Hashtable<>(Map.of(Handover.BUNDLE, bundle.getSymbolicName()))));
            }
            return replaceHandingOver(jars);
        } finally {
            for (ServiceRegistration<Handover> registration : handovers) {
                registration.unregister();
            }
        }
    }

    private String replaceHandingOver(Map<Bundle, Path> jars) {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<Bundle, Path> step : jars.entrySet()) {
            if (step.getValue() == null) {
                continue;
            }
            // Stopped first, so the new revision starts once, after the refresh, rather than also in between
            // (Bundle.update restarts an active bundle, the refresh restarts it again): a datapath loads and
            // verifies its programs once per start.
            try (InputStream in = halts.updating(Files.newInputStream(step.getValue()), Files.size(step.getValue()))) {
                step.getKey().stop(Bundle.STOP_TRANSIENT);
                halts.reached("stopped");
                step.getKey().update(in);
                halts.reached("updated");
            } catch (BundleException | IOException | IllegalStateException e) {
                failures.add(step.getKey().getSymbolicName() + ": " + TrialHealth.rootMessage(e));
            }
        }
        refresh(jars.keySet());
        for (Bundle bundle : jars.keySet()) {
            if (bundle.getState() != Bundle.ACTIVE) {
                try {
                    bundle.start();
                } catch (BundleException | IllegalStateException e) {
                    failures.add(bundle.getSymbolicName() + " does not start: " + TrialHealth.rootMessage(e));
                }
            }
        }
        return failures.isEmpty() ? null : String.join("; ", failures);
    }

    private void refresh(Set<Bundle> bundles) {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        });
        try {
            if (!done.await(60, TimeUnit.SECONDS)) {
                LOG.warning("refreshing " + bundles + " took longer than 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
