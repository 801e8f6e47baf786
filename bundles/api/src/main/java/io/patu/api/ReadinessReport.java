package io.patu.api;

import java.util.List;
import java.util.Objects;

/**
 * The answer of {@link Readiness}: one entry per feature and per other checked part of the agent (the CNI
 * socket's {@code lifecycle}), each with what is wrong with it. The node is ready when no entry has a
 * problem. The rules:
 * <ul>
 * <li>a required feature (the profile's {@code require} lines) must be installed, not disabled, active and
 *     healthy;</li>
 * <li>a feature that is not disabled must be active and healthy; a disabled one that is not required is
 *     fine, only slower or without what it adds;</li>
 * <li>healthy: the feature's bundle registers at least one {@link HealthCheck} and none reports a problem
 *     (an active bundle without one has a component that failed to start);</li>
 * <li>every other registered {@link HealthCheck} reports no problem; the lifecycle's (CNI socket served)
 *     is always expected.</li>
 * </ul>
 *
 * @param entries in a stable order: the agent's own parts first, then features by name
 */
public record ReadinessReport(List<Entry> entries) {
    public ReadinessReport {
        entries = List.copyOf(entries);
    }

    /** True when no entry has a problem. */
    public boolean ready() {
        return entries.stream().allMatch(e -> e.problems().isEmpty());
    }

    /**
     * One checked part.
     *
     * @param name     a feature's name ({@code sockmap}) or a check's ({@code lifecycle})
     * @param feature  whether this is a feature (a bundle with a {@code Patu-Feature} header)
     * @param state    {@code active}, {@code disabled}, {@code stopped} or {@code not installed}
     * @param required whether the profile requires it (always true for the agent's own parts)
     * @param problems what is wrong, one sentence each, for a person; empty when fine
     */
    public record Entry(String name, boolean feature, String state, boolean required, List<String> problems) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(state, "state");
            problems = List.copyOf(problems);
        }
    }
}
