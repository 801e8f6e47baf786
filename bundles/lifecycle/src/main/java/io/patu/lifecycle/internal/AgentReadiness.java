package io.patu.lifecycle.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.patu.api.Commands;
import io.patu.api.HealthCheck;
import io.patu.api.Readiness;
import io.patu.api.ReadinessReport;
import io.patu.api.TextTable;

/**
 * Readiness of the node, by the rules of {@link ReadinessReport}: the lifecycle's own check (CNI socket
 * served), then every feature against what the profile requires ({@value Readiness#REQUIRED_FEATURES_PROPERTY},
 * written by bin/patu from the profile's {@code require} lines) and against the health checks its bundle
 * registers. {@code patu:health} prints it for a person; the metrics feature serves it as {@code /readyz}.
 */
// Immediate: created when lifecycle starts, before any HealthCheck that also binds Readiness (the metrics
// feature) is activated; created on first use instead, SCR met a cycle there and logged it.
@Component(service = Readiness.class, immediate = true,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=health"})
public final class AgentReadiness implements Readiness {
    private final Set<String> required;
    private final Map<ServiceReference<HealthCheck>, HealthCheck> checks = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile FeatureManager features;

    @Activate
    public AgentReadiness(BundleContext context) {
        this.required = requiredFeatures(context.getProperty(REQUIRED_FEATURES_PROPERTY));
    }

    static Set<String> requiredFeatures(String property) {
        Set<String> names = new TreeSet<>();
        if (property != null) {
            Arrays.stream(property.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(names::add);
        }
        return names;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addCheck(ServiceReference<HealthCheck> reference, HealthCheck check) {
        checks.put(reference, check);
    }

    void removeCheck(ServiceReference<HealthCheck> reference) {
        checks.remove(reference);
    }

    /** A registered check, by the feature of the bundle that registered it (null when not a feature's). */
    record Check(String name, String feature, HealthCheck check) {
    }

    @Override
    public ReadinessReport check() {
        List<Check> registered = new ArrayList<>();
        checks.forEach((reference, check) -> {
            Bundle bundle = reference.getBundle();
            if (bundle == null) {
                return; // unregistered meanwhile
            }
            Object name = reference.getProperty(HealthCheck.NAME);
            registered.add(new Check(name == null ? bundle.getSymbolicName() : name.toString(),
                    FeatureManager.featureName(bundle).orElse(null), check));
        });
        FeatureManager manager = features;
        return report(registered, manager == null ? null : manager.list(), required);
    }

    /** The rules of {@link ReadinessReport}, from plain values so they are testable alone. */
    static ReadinessReport report(List<Check> checks, List<FeatureManager.Feature> features, Set<String> required) {
        List<ReadinessReport.Entry> entries = new ArrayList<>();
        TreeMap<String, List<String>> agentParts = new TreeMap<>();
        TreeMap<String, List<Check>> byFeature = new TreeMap<>();
        for (Check check : checks) {
            if (check.feature() != null) {
                byFeature.computeIfAbsent(check.feature(), f -> new ArrayList<>()).add(check);
            } else {
                agentParts.computeIfAbsent(check.name(), n -> new ArrayList<>()).addAll(problemsOf(check));
            }
        }
        // The lifecycle's check exists while the CNI socket is served; it comes first.
        List<String> lifecycle = agentParts.remove(CniSocketHealth.NAME);
        entries.add(new ReadinessReport.Entry(CniSocketHealth.NAME, false, lifecycle == null ? "stopped" : "active", true,
                lifecycle != null ? lifecycle
                        : List.of("the CNI service is not running (its socket could not be served: see the agent log)")));
        agentParts.forEach((name, problems) -> entries.add(new ReadinessReport.Entry(name, false, "active", true, problems)));
        if (features == null) {
            entries.add(new ReadinessReport.Entry("features", false, "unknown", true, List.of(
                    "the feature manager is not running (its features file could not be read: see the agent log)")));
            return new ReadinessReport(entries);
        }
        Set<String> unseen = new TreeSet<>(required);
        TreeMap<String, ReadinessReport.Entry> featureEntries = new TreeMap<>();
        for (FeatureManager.Feature feature : features) {
            unseen.remove(feature.name());
            boolean isRequired = required.contains(feature.name());
            List<String> problems = new ArrayList<>();
            switch (feature.state()) {
                case NOT_INSTALLED -> {
                    if (isRequired) {
                        problems.add("required by the profile, but disabled and no installed bundle provides it");
                    }
                }
                case DISABLED -> {
                    if (isRequired) {
                        problems.add("required by the profile, but disabled: patu:enable " + feature.name());
                    }
                }
                case STOPPED -> problems.add("enabled, but its bundle is not active (stopped by hand, or it failed to"
                        + " start: see the agent log); patu:enable " + feature.name());
                case ACTIVE -> {
                    List<Check> own = byFeature.getOrDefault(feature.name(), List.of());
                    if (own.isEmpty()) {
                        problems.add("active, but it registers no health check: its component did not start"
                                + " (see the agent log)");
                    }
                    own.forEach(check -> problems.addAll(problemsOf(check)));
                }
            }
            featureEntries.put(feature.name(), new ReadinessReport.Entry(feature.name(), true, feature.state().label,
                    isRequired, problems));
        }
        for (String missing : unseen) {
            featureEntries.put(missing, new ReadinessReport.Entry(missing, true, FeatureManager.State.NOT_INSTALLED.label,
                    true, List.of("required by the profile, but no installed bundle provides it")));
        }
        entries.addAll(featureEntries.values());
        return new ReadinessReport(entries);
    }

    private static List<String> problemsOf(Check check) {
        try {
            return check.check().problems();
        } catch (RuntimeException | LinkageError e) {
            return List.of("the health check " + check.name() + " failed: " + e);
        }
    }

    /** {@code patu:health}: readiness for a person; the first line says {@code ready: yes} or {@code ready: no}. */
    public String health() {
        return render(check());
    }

    static String render(ReadinessReport report) {
        List<List<String>> rows = new ArrayList<>();
        for (ReadinessReport.Entry entry : report.entries()) {
            List<String> problems = entry.problems().isEmpty() ? List.of("-") : entry.problems();
            for (int i = 0; i < problems.size(); i++) {
                rows.add(i == 0
                        ? List.of(entry.name(), entry.feature() ? "feature" : "agent", entry.required() ? "yes" : "no",
                                entry.state(), problems.get(i))
                        : List.of("", "", "", "", problems.get(i)));
            }
        }
        return "ready: " + (report.ready() ? "yes" : "no") + "\n\n"
                + new TextTable(List.of("CHECK", "KIND", "REQUIRED", "STATE", "PROBLEMS"), rows).render().stripTrailing();
    }
}
