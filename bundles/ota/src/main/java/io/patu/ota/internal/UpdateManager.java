package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Over-the-air updates of the agent's bundles, one release at a time: verify the signed manifest, stage the
 * artifacts, record the trial durably (attempt counter first), start the candidates, watch their health for
 * the whole window, then commit, or roll back and say why. Every decision is in {@link OtaState} before it
 * takes effect, so a crash at any point resumes from the old release or the new one; {@code bin/patu} runs
 * whatever the state file names and rolls a trial back itself when the agent keeps dying at start.
 *
 * <p>Bundles other bundles import packages from ({@code api}, {@code native}), this bundle and the framework
 * are not swapped in a running agent: their release is staged as a trial that starts with the next agent
 * start, under the same attempt, health and commit rules; the agent restarts itself for it when its launcher
 * can ({@link AgentRestart}).
 *
 * <p>The parts: {@link ReleaseFetcher} (verify, stage), {@link ReleasePlan} (which bundle each artifact
 * replaces), {@link TrialRunner} (swap, health window, commit, rollback), {@link ReleasePoller}.
 */
@Component(service = UpdateManager.class, immediate = true, configurationPid = UpdateManager.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = UpdateManager.Config.class)
public final class UpdateManager {
    public static final String PID = "io.patu.ota";
    static final String DIRECTORY = "ota";
    private static final Logger LOG = Logger.getLogger(UpdateManager.class.getName());

    @ObjectClassDefinition(name = "Patu over-the-air updates")
    public @interface Config {
        @AttributeDefinition(description = "Ed25519 public keys a release must be signed by one of (Base64 X.509, as 'patu ota keygen' writes NAME.pub)")
        String[] trustedKeys() default {};

        @AttributeDefinition(description = "Where releases come from: a directory, or an http(s):// URL of one; empty: none")
        String source() default "";

        @AttributeDefinition(description = "Seconds between checks of the source (0: only 'patu:ota check|install')")
        int pollSeconds() default 3600;

        @AttributeDefinition(description = "Whether a poll that finds a newer release installs it")
        boolean autoInstall() default true;

        @AttributeDefinition(description = "Seconds a new release must stay healthy before it is committed")
        int healthWindowSeconds() default 30;

        @AttributeDefinition(description = "Starts of a release on trial after which bin/patu rolls it back")
        int maxAttempts() default 3;

        @AttributeDefinition(description = "Directory whose ota/ holds the OTA state, the bundle store and the history; "
                + "empty: the agent's state directory (the launcher's patu.state, io.patu.lifecycle stateDir)")
        String stateDir() default "";

        @AttributeDefinition(description = "Tries of a download that fails on the way (the wait doubles from retryWaitMillis)")
        int retries() default 5;

        int retryWaitMillis() default 1000;

        int timeoutSeconds() default 30;
    }

    record Outcome(boolean ok, String message) {
    }

    private final BundleContext context;
    private final Config config;
    private final Path directory;
    private final ArtifactStager stager;
    private final ReleaseFetcher fetcher;
    private final OtaHistory history;
    private final BundleSlots slots;
    private final HaltPoints halts;
    private final HealthWindow window;
    private final AgentRestart restart;
    private final TrialRunner trials;
    private final ReentrantLock busy = new ReentrantLock();
    private final ScheduledExecutorService scheduler;
    private final ReleasePoller poller;
    private volatile boolean closed;

    @Activate
    public UpdateManager(BundleContext context, @Reference ServiceComponentRuntime scr, Config config) throws IOException {
        this.context = context;
        this.config = config;
        Map<String, PublicKey> trusted = new LinkedHashMap<>();
        for (String text : config.trustedKeys()) {
            if (!text.isBlank()) {
                PublicKey key = SigningKeys.parsePublic(text);
                trusted.put(SigningKeys.keyId(key), key);
            }
        }
        this.directory = stateDirectory(context, config).resolve(DIRECTORY);
        this.stager = new ArtifactStager(directory, new ArtifactStager.Retry(Math.max(1, config.retries()),
                Duration.ofMillis(Math.max(1, config.retryWaitMillis()))));
        this.history = new OtaHistory(directory);
        this.fetcher = new ReleaseFetcher(stager, trusted, Clock.systemUTC());
        this.slots = new BundleSlots(context);
        this.halts = new HaltPoints(context);
        this.window = new HealthWindow(config.healthWindowSeconds());
        this.restart = new AgentRestart(context);
        this.trials = new TrialRunner(context, scr, directory, history, stager, slots, new BundleSwap(context, halts),
                window, restart, config.maxAttempts());
        Files.createDirectories(directory);
        stager.removeStaleStaging();
        stager.removeUnreferenced(OtaState.read(directory));
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "patu-ota");
            t.setDaemon(true);
            return t;
        });
        // Started here, not by the first 'patu:ota install': a thread inherits the Gogo session streams of the
        // thread that creates it, and what the update logs (the bundles it starts included) belongs in the
        // agent's log, not in one remote shell call's answer.
        executor.prestartCoreThread();
        this.scheduler = executor;
        this.poller = new ReleasePoller(scheduler, config.pollSeconds(), config.autoInstall(), this::check, this::install);
        if (OtaState.read(directory).onTrial()) {
            scheduler.execute(this::resumeTrial);
        }
        if (!config.source().isBlank() && config.pollSeconds() > 0) {
            poller.start();
        }
    }

    static Path stateDirectory(BundleContext context, Config config) {
        if (!config.stateDir().isBlank()) {
            return Path.of(config.stateDir());
        }
        String agentState = context.getProperty("patu.state");
        return Path.of(agentState != null && !agentState.isBlank() ? agentState : "/var/lib/patu");
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        closed = true;
        poller.stop();
        window.abort("the ota component stopped");
        scheduler.shutdownNow();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }

    Path directory() {
        return directory;
    }

    OtaHistory history() {
        return history;
    }

    Config config() {
        return config;
    }

    String lastPoll() {
        return poller.lastPoll();
    }

    boolean busy() {
        return busy.isLocked();
    }

    /** What the source offers, verified; nothing is written. */
    Outcome check() {
        try (ReleaseSource source = ReleaseSource.of(config.source(), Duration.ofSeconds(config.timeoutSeconds()))) {
            OtaState state = OtaState.read(directory);
            ReleaseManifest release = fetchVerified(source, state);
            ReleasePlan plan = ReleasePlan.of(release, slots);
            return new Outcome(true, "release " + release.sequence() + " (expires " + release.expires() + ") at "
                    + source.describe() + " would update " + plan.describe()
                    + (slots.needRestart(plan.bundles().values()) ? "; it needs an agent restart" : ""));
        } catch (ReleaseRefusedException | IOException | IllegalArgumentException e) {
            return new Outcome(false, e.getMessage());
        }
    }

    /**
     * {@link #install()} on the OTA thread, waited for: an update must not run on the caller's thread, which
     * may belong to a bundle the update restarts (the remote shell's), and be interrupted half way.
     */
    Outcome installFromCommand() {
        return onOtaThread(this::install);
    }

    /** {@link #rollbackByOperator()} on the OTA thread, as {@link #installFromCommand()}; a trial running there is aborted at once. */
    Outcome rollbackFromCommand() {
        if (busy.isLocked()) {
            return rollbackByOperator();
        }
        return onOtaThread(this::rollbackByOperator);
    }

    private Outcome onOtaThread(Callable<Outcome> task) {
        Future<Outcome> outcome = scheduler.submit(task);
        try {
            return outcome.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(true, "the update goes on in the background; see 'patu:ota status'");
        } catch (ExecutionException e) {
            return new Outcome(false, "the update failed: " + TrialHealth.rootMessage(e));
        }
    }

    /** Fetches, verifies, stages and tries the newest release; returns when it is committed or rolled back. */
    Outcome install() {
        if (!busy.tryLock()) {
            return new Outcome(false, "an update is in progress");
        }
        try {
            return installLocked();
        } finally {
            busy.unlock();
        }
    }

    private Outcome installLocked() {
        OtaState state;
        ReleaseManifest release;
        ReleasePlan plan;
        Map<String, Path> staged;
        try (ReleaseSource source = ReleaseSource.of(config.source(), Duration.ofSeconds(config.timeoutSeconds()))) {
            state = OtaState.read(directory);
            if (state.onTrial()) {
                return new Outcome(false, "release " + state.trial() + " is on trial; wait for its commit or 'patu:ota rollback'");
            }
            release = fetchVerified(source, state);
            plan = ReleasePlan.of(release, slots);
            try {
                staged = fetcher.stageAll(source, release, plan.slots());
            } catch (ReleaseRefusedException | IOException e) {
                recordQuietly(release.sequence(), "refused", e.getMessage());
                return new Outcome(false, "release " + release.sequence() + " refused: " + e.getMessage());
            }
        } catch (ReleaseRefusedException.NotNewer e) {
            return new Outcome(false, e.getMessage());
        } catch (ReleaseRefusedException | IOException | IllegalArgumentException e) {
            recordQuietly(0, "refused", e.getMessage());
            return new Outcome(false, "refused: " + e.getMessage());
        }
        halts.reached("staged");
        Map<String, String> jars = new TreeMap<>();
        staged.forEach((slot, jar) -> jars.put(slot, jar.toString()));
        try {
            if (slots.needRestart(plan.bundles().values())) {
                state.withTrial(release.sequence(), 0, jars).write(directory);
                history.record(release.sequence(), "staged", plan.describe() + "; starts on trial with the next agent start");
                return new Outcome(true, "release " + release.sequence() + " staged: " + plan.describe()
                        + "; it updates bundles that are not swapped in a running agent"
                        + trials.restartInto(release.sequence(), "its trial"));
            }
            Set<String> checksBefore = TrialHealth.checkNames(context);
            // The attempt counter is bumped (durably) before the candidates start, as the launcher does.
            state.withTrial(release.sequence(), 1, jars).write(directory);
            history.record(release.sequence(), "trial", plan.describe());
            return trials.run(release.sequence(), plan.candidates(staged), checksBefore);
        } catch (IOException e) {
            return new Outcome(false, "release " + release.sequence() + " not started: " + e.getMessage());
        }
    }

    private ReleaseManifest fetchVerified(ReleaseSource source, OtaState state) throws IOException, ReleaseRefusedException {
        return fetcher.verified(source, Math.max(state.committed(), state.trial()));
    }

    /** Re-judges a release the launcher started on trial (a whole-agent release, or a crash during a trial). */
    private void resumeTrial() {
        busy.lock();
        try {
            trials.resume(() -> closed);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "resuming the trial failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            busy.unlock();
        }
    }

    /** {@code patu:ota rollback}: ends a running trial, drops a staged one, or returns to the previous release. */
    Outcome rollbackByOperator() {
        if (!busy.tryLock()) {
            window.abort("rolled back by the operator");
            return new Outcome(true, "the release on trial is being rolled back");
        }
        try {
            OtaState state = OtaState.read(directory);
            if (state.onTrial()) {
                return trials.rollBack(state.trial(), "rolled back by the operator");
            }
            return trials.rollBackCommit();
        } catch (IOException e) {
            return new Outcome(false, "rollback failed: " + e.getMessage());
        } finally {
            busy.unlock();
        }
    }

    private void recordQuietly(long release, String outcome, String detail) {
        try {
            history.record(release, outcome, detail);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not record in the OTA history: " + detail, e);
        }
    }
}
