package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

import io.patu.ota.internal.UpdateManager.Outcome;

/**
 * A release on trial, to its end: the candidates started (swapped in a running agent, or by the launcher at
 * the agent's start), judged over the health window, then committed or rolled back. Each decision is written
 * to the state file first and followed by the running bundles after, so a crash at any point resumes from
 * the old release or the new one. Bundles a running agent cannot swap are returned to by a restart of the agent.
 */
final class TrialRunner {
    private static final Logger LOG = Logger.getLogger(TrialRunner.class.getName());

    private final BundleContext context;
    private final ServiceComponentRuntime scr;
    private final Path directory;
    private final OtaHistory history;
    private final ArtifactStager stager;
    private final BundleSlots slots;
    private final BundleSwap swap;
    private final HealthWindow window;
    private final AgentRestart restart;
    private final int maxAttempts;

    TrialRunner(BundleContext context, ServiceComponentRuntime scr, Path directory, OtaHistory history, ArtifactStager stager,
            BundleSlots slots, BundleSwap swap, HealthWindow window, AgentRestart restart, int maxAttempts) {
        this.context = context;
        this.scr = scr;
        this.directory = directory;
        this.history = history;
        this.stager = stager;
        this.slots = slots;
        this.swap = swap;
        this.window = window;
        this.restart = restart;
        this.maxAttempts = maxAttempts;
    }

    /** Swaps the candidates in for the running bundles and judges them. */
    Outcome run(long release, Map<Bundle, Path> candidates, Set<String> checksBefore) throws IOException {
        window.reset();
        String failure;
        try (TrialHealth health = new TrialHealth(context, scr, candidates.keySet(), checksBefore)) {
            failure = swap.replace(candidates);
            if (failure == null) {
                failure = window.watch(health);
            }
        }
        return failure == null ? commit(release) : rollBack(release, failure);
    }

    /** Re-judges a release the launcher started on trial (a whole-agent release, or a crash during a trial). */
    void resume(BooleanSupplier closed) throws IOException, InterruptedException {
        OtaState state = OtaState.read(directory);
        if (!state.onTrial()) {
            return;
        }
        if (state.attempts() == 0) {
            // Staged for the next start by the launcher, which counts it; this start was not counted.
            LOG.info("release " + state.trial() + " is staged and starts on trial with the next agent start");
            return;
        }
        Bundle framework = context.getBundle(0);
        while (framework.getState() != Bundle.ACTIVE && !closed.getAsBoolean()) {
            Thread.sleep(100);
        }
        List<Bundle> running = new ArrayList<>();
        for (Map.Entry<String, String> candidate : state.candidates().entrySet()) {
            Bundle bundle = context.getBundle("file:" + candidate.getValue());
            if (bundle == null) {
                rollBack(state.trial(), "the agent did not start the trial's " + candidate.getKey() + " (" + candidate.getValue() + ")");
                return;
            }
            running.add(bundle);
        }
        LOG.info("release " + state.trial() + " on trial, start " + state.attempts() + " of at most " + maxAttempts);
        window.reset();
        String failure;
        try (TrialHealth health = new TrialHealth(context, scr, running, Set.of())) {
            failure = window.watch(health);
        }
        if (failure == null) {
            commit(state.trial());
        } else {
            rollBack(state.trial(), failure);
        }
    }

    Outcome commit(long release) throws IOException {
        OtaState state = OtaState.read(directory);
        Map<String, String> replaced = new TreeMap<>();
        for (String slot : state.candidates().keySet()) {
            replaced.put(slot, slots.fallbackJar(state, slot).toString());
        }
        state.committedTrial(replaced).write(directory);
        history.record(release, "committed", String.join(", ", state.candidates().keySet()) + " healthy for "
                + window.seconds() + " s");
        stager.removeUnreferenced(OtaState.read(directory));
        LOG.info("release " + release + " committed");
        return new Outcome(true, "release " + release + " committed");
    }

    /** Back to the committed jars: the decision is made durable first, then the running bundles follow it. */
    Outcome rollBack(long release, String reason) throws IOException {
        OtaState state = OtaState.read(directory);
        state.withoutTrial().write(directory);
        history.record(release, "rolled back", reason);
        LOG.warning("release " + release + " rolled back: " + reason);
        Map<Bundle, Path> back = new LinkedHashMap<>();
        List<String> restartFor = new ArrayList<>();
        for (Map.Entry<String, String> candidate : state.candidates().entrySet()) {
            Bundle bundle = slots.inSlot(candidate.getKey());
            if (bundle == null) {
                continue;
            }
            if (!slots.needRestart(List.of(bundle))) {
                back.put(bundle, slots.fallbackJar(state, candidate.getKey()));
            } else if (bundle.getLocation().equals("file:" + candidate.getValue())) {
                restartFor.add(candidate.getKey());
            }
        }
        String failure = swap.replace(back);
        if (failure != null) {
            history.record(release, "rollback incomplete", failure + "; the next agent start runs the committed jars");
        }
        stager.removeUnreferenced(OtaState.read(directory));
        String restarted = restartFor.isEmpty() ? "" : restartInto(release, "the committed " + String.join(", ", restartFor));
        return new Outcome(false, "release " + release + " rolled back: " + reason + restarted);
    }

    /** {@code patu:ota rollback} after a commit: the jars the last commit replaced become current again. */
    Outcome rollBackCommit() throws IOException {
        OtaState state = OtaState.read(directory);
        if (state.previous().isEmpty()) {
            return new Outcome(false, "nothing to roll back: the agent runs its first release");
        }
        state.rolledBackCommit().write(directory);
        history.record(state.committed(), "rolled back", "by the operator, to the jars it replaced: " + state.previous().keySet());
        Map<Bundle, Path> back = new LinkedHashMap<>();
        for (Map.Entry<String, String> previous : state.previous().entrySet()) {
            Bundle bundle = slots.inSlot(previous.getKey());
            if (bundle != null) {
                back.put(bundle, Path.of(previous.getValue()));
            }
        }
        if (slots.needRestart(back.keySet())) {
            return new Outcome(true, "release " + state.committed() + " rolled back" + restartInto(state.committed(), "the jars it replaced"));
        }
        String failure = swap.replace(back);
        return new Outcome(failure == null, "release " + state.committed() + " rolled back" + (failure == null ? "" : ": " + failure));
    }

    /** The state already names {@code what}; a restart of the agent makes it run them. */
    String restartInto(long release, String what) throws IOException {
        if (!restart.supported()) {
            return "; restart the agent to run " + what;
        }
        history.record(release, "restarting", "the agent restarts to run " + what);
        restart.request("release " + release + ": to run " + what);
        return "; the agent restarts to run " + what;
    }
}
