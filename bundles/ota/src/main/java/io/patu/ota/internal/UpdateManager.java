package io.patu.ota.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.Handover;

/**
 * Over-the-air updates of the agent's bundles, one release at a time: verify the signed manifest, stage the
 * artifacts, record the trial durably (attempt counter first), start the candidates, watch their health for
 * the whole window, then commit, or roll back and say why. Every decision is in {@link OtaState} before it
 * takes effect, so a crash at any point resumes from the old release or the new one; {@code bin/patu} runs
 * whatever the state file names and rolls a trial back itself when the agent keeps dying at start.
 *
 * <p>Bundles other bundles import packages from ({@code api}, {@code native}), this bundle and the framework
 * are not swapped in a running agent: their release is staged as a trial that starts with the next agent
 * start, under the same attempt, health and commit rules.
 */
@Component(service = UpdateManager.class, immediate = true, configurationPid = UpdateManager.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = UpdateManager.Config.class)
public final class UpdateManager {
    public static final String PID = "io.patu.ota";
    static final String DIRECTORY = "ota";
    private static final Logger LOG = Logger.getLogger(UpdateManager.class.getName());
    /** bundle/NAME-VERSION.jar and store/NAME-VERSION-SHA.jar: NAME is the bundle's slot (its profile name). */
    private static final Pattern SLOT = Pattern.compile("(.+?)-[0-9].*\\.jar");

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
    private final ServiceComponentRuntime scr;
    private final Config config;
    private final Path directory;
    private final ArtifactStager stager;
    private final ReleaseFetcher fetcher;
    private final OtaHistory history;
    private final Map<String, PublicKey> trusted = new LinkedHashMap<>();
    private final ReentrantLock busy = new ReentrantLock();
    private final ScheduledExecutorService scheduler;
    private volatile String abortReason;
    private volatile String lastPoll = "never";
    private volatile boolean closed;
    private int pollFailures;

    @Activate
    public UpdateManager(BundleContext context, @Reference ServiceComponentRuntime scr, Config config) throws IOException {
        this.context = context;
        this.scr = scr;
        this.config = config;
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
        Files.createDirectories(directory);
        stager.removeStaleStaging();
        removeUnreferencedJars(OtaState.read(directory));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "patu-ota");
            t.setDaemon(true);
            return t;
        });
        if (OtaState.read(directory).onTrial()) {
            scheduler.execute(this::resumeTrial);
        }
        if (!config.source().isBlank() && config.pollSeconds() > 0) {
            scheduler.schedule(this::poll, config.pollSeconds(), TimeUnit.SECONDS);
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
        abortReason = "the ota component stopped";
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
        return lastPoll;
    }

    boolean busy() {
        return busy.isLocked();
    }

    /** What the source offers, verified; nothing is written. */
    Outcome check() {
        OtaState state;
        try (ReleaseSource source = ReleaseSource.of(config.source(), Duration.ofSeconds(config.timeoutSeconds()))) {
            state = OtaState.read(directory);
            ReleaseManifest release = fetchVerified(source, state);
            Map<Artifact, Bundle> plan = plan(release);
            return new Outcome(true, "release " + release.sequence() + " (expires " + release.expires() + ") at "
                    + source.describe() + " would update " + describe(plan) + (needsRestart(plan.values()) ? "; it needs an agent restart" : ""));
        } catch (ReleaseRefusedException | IOException | IllegalArgumentException e) {
            return new Outcome(false, e.getMessage());
        }
    }

    /**
     * {@link #install()} on the OTA thread, waited for: an update must not run on the caller's thread, which
     * may belong to a bundle the update restarts (the remote shell's), and be interrupted half way.
     */
    Outcome installFromCommand() {
        java.util.concurrent.Future<Outcome> outcome = scheduler.submit(this::install);
        try {
            return outcome.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(true, "the update goes on in the background; see 'patu:ota status'");
        } catch (java.util.concurrent.ExecutionException e) {
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
        Map<Artifact, Bundle> plan;
        Map<String, Path> staged;
        try (ReleaseSource source = ReleaseSource.of(config.source(), Duration.ofSeconds(config.timeoutSeconds()))) {
            state = OtaState.read(directory);
            if (state.onTrial()) {
                return new Outcome(false, "release " + state.trial() + " is on trial; wait for its commit or 'patu:ota rollback'");
            }
            release = fetchVerified(source, state);
            plan = plan(release);
            Map<Artifact, String> slots = new LinkedHashMap<>();
            plan.forEach((artifact, bundle) -> slots.put(artifact, slotOf(bundle)));
            try {
                staged = fetcher.stageAll(source, release, slots);
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
        Map<String, String> jars = new TreeMap<>();
        staged.forEach((slot, jar) -> jars.put(slot, jar.toString()));
        try {
            if (needsRestart(plan.values())) {
                state.withTrial(release.sequence(), 0, jars).write(directory);
                history.record(release.sequence(), "staged", describe(plan) + "; starts on trial with the next agent start");
                return new Outcome(true, "release " + release.sequence() + " staged: " + describe(plan)
                        + "; it updates bundles that are not swapped in a running agent: restart the agent to start its trial");
            }
            Set<String> checksBefore = TrialHealth.checkNames(context);
            // The attempt counter is bumped (durably) before the candidates start, as the launcher does.
            state.withTrial(release.sequence(), 1, jars).write(directory);
            history.record(release.sequence(), "trial", describe(plan));
            Map<Bundle, Path> candidates = new LinkedHashMap<>();
            plan.forEach((artifact, bundle) -> candidates.put(bundle, staged.get(slotOf(bundle))));
            return runTrial(release.sequence(), candidates, checksBefore);
        } catch (IOException e) {
            return new Outcome(false, "release " + release.sequence() + " not started: " + e.getMessage());
        }
    }

    private ReleaseManifest fetchVerified(ReleaseSource source, OtaState state) throws IOException, ReleaseRefusedException {
        return fetcher.verified(source, Math.max(state.committed(), state.trial()));
    }

    /** Which installed bundle each artifact replaces; a bundle this device does not run is refused. */
    private Map<Artifact, Bundle> plan(ReleaseManifest release) throws ReleaseRefusedException {
        Map<Artifact, Bundle> plan = new LinkedHashMap<>();
        for (Artifact artifact : release.artifacts()) {
            Bundle bundle = bundleNamed(artifact.bundle());
            if (bundle == null) {
                throw new ReleaseRefusedException("release " + release.sequence() + " updates bundle " + artifact.bundle()
                        + ", which this agent does not run");
            }
            if (slotOf(bundle) == null) {
                throw new ReleaseRefusedException(artifact.bundle() + " was installed from " + bundle.getLocation()
                        + ", not from a jar of the distribution: it cannot be updated over the air");
            }
            plan.put(artifact, bundle);
        }
        return plan;
    }

    private Bundle bundleNamed(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        return null;
    }

    /** Whether swapping these bundles needs a new JVM: the framework, this bundle, or one whose packages others use. */
    private boolean needsRestart(Iterable<Bundle> bundles) {
        for (Bundle bundle : bundles) {
            if (bundle.getBundleId() == 0 || bundle.equals(context.getBundle())) {
                return true;
            }
            BundleWiring wiring = bundle.adapt(BundleWiring.class);
            if (wiring == null) {
                continue;
            }
            for (BundleWire wire : wiring.getProvidedWires(null)) {
                if (!wire.getRequirer().getBundle().equals(bundle)
                        && !"osgi.extender".equals(wire.getCapability().getNamespace())
                        && !"osgi.service".equals(wire.getCapability().getNamespace())) {
                    return true;
                }
            }
        }
        return false;
    }

    static String slotOf(Bundle bundle) {
        String location = bundle.getLocation();
        String name = location.substring(location.lastIndexOf('/') + 1);
        Matcher m = SLOT.matcher(name);
        return m.matches() ? m.group(1) : null;
    }

    private static String describe(Map<Artifact, Bundle> plan) {
        List<String> parts = new ArrayList<>();
        plan.forEach((artifact, bundle) -> parts.add(artifact.bundle() + " " + bundle.getVersion() + " -> " + artifact.version()));
        return String.join(", ", parts);
    }

    // --- Trial -----------------------------------------------------------------------------------------------

    /** Starts the candidates (if {@code swap} is given, by updating the running bundles) and judges them. */
    private Outcome runTrial(long release, Map<Bundle, Path> swap, Set<String> checksBefore) throws IOException {
        abortReason = null;
        String failure;
        try (TrialHealth health = new TrialHealth(context, scr, swap.keySet(), checksBefore)) {
            failure = replace(swap);
            if (failure == null) {
                failure = watch(health);
            }
        }
        return failure == null ? commit(release) : rollback(release, failure);
    }

    /** Re-judges a release the launcher started on trial (a restart-mode release, or a crash during a trial). */
    private void resumeTrial() {
        busy.lock();
        try {
            OtaState state = OtaState.read(directory);
            if (!state.onTrial()) {
                return;
            }
            if (state.attempts() == 0) {
                // Staged for the next agent start (a whole-agent release), which counts it; this is not it.
                LOG.info("release " + state.trial() + " is staged and starts on trial with the next agent start");
                return;
            }
            awaitFrameworkStarted();
            Map<Bundle, Path> running = new LinkedHashMap<>();
            for (Map.Entry<String, String> candidate : state.candidates().entrySet()) {
                Bundle bundle = context.getBundle("file:" + candidate.getValue());
                if (bundle == null) {
                    rollback(state.trial(), "the agent did not start the trial's " + candidate.getKey() + " (" + candidate.getValue() + ")");
                    return;
                }
                running.put(bundle, null);
            }
            LOG.info("release " + state.trial() + " on trial, start " + state.attempts() + " of at most " + config.maxAttempts());
            abortReason = null;
            String failure;
            try (TrialHealth health = new TrialHealth(context, scr, running.keySet(), Set.of())) {
                failure = watch(health);
            }
            if (failure == null) {
                commit(state.trial());
            } else {
                rollback(state.trial(), failure);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "resuming the trial failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            busy.unlock();
        }
    }

    private void awaitFrameworkStarted() throws InterruptedException {
        Bundle framework = context.getBundle(0);
        while (framework.getState() != Bundle.ACTIVE && !closed) {
            Thread.sleep(100);
        }
    }

    /** Null when the bundles stayed healthy for the whole window; the first problem otherwise. */
    private String watch(TrialHealth health) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(1, config.healthWindowSeconds()));
        // SCR may still be binding what a restarted bundle's components reference: the first samples are
        // given a moment to settle, then every sample must be clean.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        List<String> problems = List.of();
        while (true) {
            if (abortReason != null) {
                return abortReason;
            }
            problems = health.problems();
            if (!problems.isEmpty() && System.nanoTime() > settle) {
                return String.join("; ", problems);
            }
            if (problems.isEmpty() && System.nanoTime() > end) {
                return null;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted during the health window";
            }
        }
    }

    /** Updates each bundle to its jar and refreshes them; null when all are active again, why not otherwise. */
    private String replace(Map<Bundle, Path> jars) {
        // While a bundle is swapped for another revision of itself it is told so (Handover): one that owns
        // pinned kernel state leaves it for the next revision instead of removing it.
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
            try (InputStream in = Files.newInputStream(step.getValue())) {
                step.getKey().stop(Bundle.STOP_TRANSIENT);
                step.getKey().update(in);
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

    private Outcome commit(long release) throws IOException {
        OtaState state = OtaState.read(directory);
        Map<String, String> replaced = new TreeMap<>();
        for (String slot : state.candidates().keySet()) {
            replaced.put(slot, fallbackJar(state, slot).toString());
        }
        state.committedTrial(replaced).write(directory);
        history.record(release, "committed", String.join(", ", state.candidates().keySet()) + " healthy for "
                + config.healthWindowSeconds() + " s");
        removeUnreferencedJars(OtaState.read(directory));
        LOG.info("release " + release + " committed");
        return new Outcome(true, "release " + release + " committed");
    }

    /** Back to the committed jars: the decision is made durable first, then the running bundles follow it. */
    private Outcome rollback(long release, String reason) throws IOException {
        OtaState state = OtaState.read(directory);
        state.withoutTrial().write(directory);
        history.record(release, "rolled back", reason);
        LOG.warning("release " + release + " rolled back: " + reason);
        Map<Bundle, Path> back = new LinkedHashMap<>();
        for (Map.Entry<String, String> candidate : state.candidates().entrySet()) {
            Bundle bundle = bundleInSlot(candidate.getKey());
            if (bundle != null && !needsRestart(List.of(bundle))) {
                back.put(bundle, fallbackJar(state, candidate.getKey()));
            }
        }
        String failure = replace(back);
        if (failure != null) {
            history.record(release, "rollback incomplete", failure + "; the next agent start runs the committed jars");
        }
        removeUnreferencedJars(OtaState.read(directory));
        return new Outcome(false, "release " + release + " rolled back: " + reason);
    }

    /** {@code patu:ota rollback}: ends a running trial, drops a staged one, or returns to the previous release. */
    Outcome rollbackByOperator() {
        if (!busy.tryLock()) {
            abortReason = "rolled back by the operator";
            return new Outcome(true, "the release on trial is being rolled back");
        }
        try {
            OtaState state = OtaState.read(directory);
            if (state.onTrial()) {
                return rollback(state.trial(), "rolled back by the operator");
            }
            if (state.previous().isEmpty()) {
                return new Outcome(false, "nothing to roll back: the agent runs its first release");
            }
            state.rolledBackCommit().write(directory);
            history.record(state.committed(), "rolled back", "by the operator, to the jars it replaced: " + state.previous().keySet());
            Map<Bundle, Path> back = new LinkedHashMap<>();
            for (Map.Entry<String, String> previous : state.previous().entrySet()) {
                Bundle bundle = bundleInSlot(previous.getKey());
                if (bundle != null) {
                    back.put(bundle, Path.of(previous.getValue()));
                }
            }
            String failure = needsRestart(back.keySet()) ? "restart the agent to run them" : replace(back);
            return new Outcome(failure == null, "release " + state.committed() + " rolled back"
                    + (failure == null ? "" : ": " + failure));
        } catch (IOException e) {
            return new Outcome(false, "rollback failed: " + e.getMessage());
        } finally {
            busy.unlock();
        }
    }

    private Bundle bundleInSlot(String slot) {
        for (Bundle bundle : context.getBundles()) {
            if (slot.equals(slotOf(bundle))) {
                return bundle;
            }
        }
        return null;
    }

    /** The jar a slot returns to: its committed one, else the one the distribution shipped. */
    private Path fallbackJar(OtaState state, String slot) throws IOException {
        String current = state.current().get(slot);
        if (current != null && Files.isRegularFile(Path.of(current))) {
            return Path.of(current);
        }
        String home = context.getProperty("patu.home");
        if (home == null) {
            throw new IOException("patu.home is not set: the shipped jar of " + slot + " cannot be found");
        }
        Path shipped = null;
        try (Stream<Path> jars = Files.list(Path.of(home, "bundle"))) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                String name = jar.getFileName().toString();
                Matcher m = SLOT.matcher(name);
                if (m.matches() && m.group(1).equals(slot) && (shipped == null || name.compareTo(shipped.getFileName().toString()) > 0)) {
                    shipped = jar;
                }
            }
        }
        if (shipped == null) {
            throw new IOException("no jar of " + slot + " in " + home + "/bundle");
        }
        return shipped;
    }

    private void removeUnreferencedJars(OtaState state) throws IOException {
        Path store = stager.store();
        if (!Files.isDirectory(store)) {
            return;
        }
        Set<String> referenced = new HashSet<>();
        referenced.addAll(state.current().values());
        referenced.addAll(state.previous().values());
        referenced.addAll(state.candidates().values());
        try (Stream<Path> jars = Files.list(store)) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                if (!referenced.contains(jar.toString())) {
                    Files.deleteIfExists(jar);
                }
            }
        }
    }

    private void recordQuietly(long release, String outcome, String detail) {
        try {
            history.record(release, outcome, detail);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "could not record in the OTA history: " + detail, e);
        }
    }

    // --- Polling ---------------------------------------------------------------------------------------------

    /** One poll; a source failing in a loop is asked less and less often (up to 16 poll intervals apart). */
    private void poll() {
        if (closed) {
            return;
        }
        boolean failed = false;
        Outcome outcome = check();
        if (outcome.ok() && config.autoInstall()) {
            outcome = install();
        } else if (!outcome.ok() && !outcome.message().contains("not newer")) {
            failed = true;
        }
        lastPoll = Instant.now() + ": " + outcome.message();
        pollFailures = failed ? Math.min(pollFailures + 1, 4) : 0;
        if (!closed) {
            scheduler.schedule(this::poll, (long) config.pollSeconds() << pollFailures, TimeUnit.SECONDS);
        }
    }
}
