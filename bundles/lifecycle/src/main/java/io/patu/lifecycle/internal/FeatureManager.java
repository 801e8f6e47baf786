package io.patu.lifecycle.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/**
 * Turns features on and off at runtime and remembers it. A feature is a bundle whose manifest has a
 * {@value Commands#FEATURE_HEADER} header; disabling it stops the bundle (whose components then remove
 * exactly their kernel state) and records its name in {@link FeaturesFile}; enabling starts it again.
 *
 * <p>The launcher does not start disabled features. If one runs anyway (an older launcher, a bundle
 * started by hand before a restart), it is stopped when this component activates and again when the
 * framework has finished starting, since the feature may start after the lifecycle bundle.
 */
@Component(service = FeatureManager.class, immediate = true, configurationPid = PodLifecycle.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE,
            Commands.FUNCTION_PROPERTY + "=features", Commands.FUNCTION_PROPERTY + "=enable",
            Commands.FUNCTION_PROPERTY + "=disable"})
public final class FeatureManager {
    private static final Logger LOG = Logger.getLogger(FeatureManager.class.getName());

    /** A feature as the operator sees it; {@code bundle} is null when no installed bundle provides it. */
    record Feature(String name, Bundle bundle, State state) {
    }

    enum State {
        ACTIVE("active"),
        DISABLED("disabled"),
        /** Not disabled, yet not running: stopped by hand, or its bundle failed to start. */
        STOPPED("stopped"),
        /** Disabled, and no installed bundle provides it. */
        NOT_INSTALLED("not installed");

        final String label;

        State(String label) {
            this.label = label;
        }
    }

    private final BundleContext context;
    private final FeaturesFile file;
    private final SortedSet<String> disabled;
    private final FrameworkListener onFrameworkStarted = event -> {
        if (event.getType() == FrameworkEvent.STARTED) {
            stopDisabledFeatures();
        }
    };

    @Activate
    public FeatureManager(BundleContext context, PodLifecycle.Config config) throws IOException {
        this.context = context;
        this.file = new FeaturesFile(Path.of(config.stateDir()));
        this.disabled = file.readDisabled();
        stopDisabledFeatures();
        context.addFrameworkListener(onFrameworkStarted);
    }

    @Deactivate
    void deactivate() {
        context.removeFrameworkListener(onFrameworkStarted);
    }

    /** Every feature an installed bundle provides, and every disabled one, by name. */
    synchronized List<Feature> list() {
        TreeMap<String, Bundle> provided = new TreeMap<>();
        for (Bundle bundle : context.getBundles()) {
            featureName(bundle).ifPresent(name -> provided.putIfAbsent(name, bundle));
        }
        List<Feature> features = new ArrayList<>();
        TreeMap<String, Bundle> all = new TreeMap<>(provided);
        disabled.forEach(name -> all.putIfAbsent(name, null));
        all.forEach((name, bundle) -> features.add(new Feature(name, bundle, stateOf(name, bundle))));
        return features;
    }

    /** {@code patu:features}: name, bundle and state of every feature. */
    public String features() {
        List<Feature> features = list();
        if (features.isEmpty()) {
            return "no feature bundle is installed (a feature bundle has a " + Commands.FEATURE_HEADER + " header)";
        }
        return table(features).render().stripTrailing();
    }

    /** {@code patu:disable NAME}: stops the feature's bundle and keeps it stopped across restarts. */
    public synchronized String disable(String name) throws IOException, BundleException {
        Feature feature = find(name);
        boolean added = disabled.add(name);
        file.writeDisabled(disabled);
        if (feature.bundle() != null && feature.bundle().getState() == Bundle.ACTIVE) {
            try {
                feature.bundle().stop();
            } catch (BundleException | RuntimeException e) {
                if (added) {
                    disabled.remove(name);
                    file.writeDisabled(disabled);
                }
                throw new BundleException("cannot stop " + describe(feature.bundle()) + ": " + e.getMessage()
                        + "; the feature stays enabled, see the agent log", e);
            }
        }
        return name + " disabled" + (feature.bundle() == null ? "" : ": " + describe(feature.bundle()) + " is stopped")
                + "; it stays disabled across agent restarts (patu:enable " + name + " to undo)";
    }

    /** {@code patu:enable NAME}: forgets that the feature was disabled and starts its bundle. */
    public synchronized String enable(String name) throws IOException, BundleException {
        Feature feature = find(name);
        if (disabled.remove(name)) {
            file.writeDisabled(disabled);
        }
        if (feature.bundle() == null) {
            return name + " enabled, but no installed bundle provides it: install the bundle of the feature";
        }
        try {
            feature.bundle().start();
        } catch (BundleException e) {
            throw new BundleException("cannot start " + describe(feature.bundle()) + ": " + e.getMessage()
                    + "; the feature is no longer disabled, fix the cause and run patu:enable " + name + " again", e);
        }
        return name + " enabled: " + describe(feature.bundle()) + " is " + stateOf(name, feature.bundle()).label;
    }

    static TextTable table(List<Feature> features) {
        return new TextTable(List.of("FEATURE", "BUNDLE", "STATE"), features.stream()
                .map(f -> List.of(f.name(), f.bundle() == null ? "-" : describe(f.bundle()), f.state().label))
                .toList());
    }

    private Feature find(String name) {
        List<Feature> features = list();
        return features.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown feature '" + name + "': the known features are "
                        + (features.isEmpty() ? "none" : String.join(", ", features.stream().map(Feature::name).toList()))));
    }

    private State stateOf(String name, Bundle bundle) {
        if (bundle == null) {
            return State.NOT_INSTALLED;
        }
        if (bundle.getState() == Bundle.ACTIVE) {
            return State.ACTIVE;
        }
        return disabled.contains(name) ? State.DISABLED : State.STOPPED;
    }

    private synchronized void stopDisabledFeatures() {
        for (Feature feature : list()) {
            if (feature.state() == State.ACTIVE && disabled.contains(feature.name())) {
                try {
                    LOG.info(() -> "stopping " + describe(feature.bundle()) + ": feature " + feature.name()
                            + " is disabled in " + file.path());
                    feature.bundle().stop();
                } catch (BundleException | RuntimeException e) {
                    LOG.log(Level.WARNING, "cannot stop disabled feature " + feature.name(), e);
                }
            }
        }
    }

    static Optional<String> featureName(Bundle bundle) {
        String header = bundle.getHeaders("").get(Commands.FEATURE_HEADER);
        return header == null || header.isBlank() ? Optional.empty() : Optional.of(header.trim());
    }

    static String describe(Bundle bundle) {
        return bundle.getSymbolicName() + " [" + bundle.getBundleId() + "]";
    }
}
