package io.patu.lifecycle.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.Commands;
import io.patu.api.Egress;
import io.patu.api.IpAllocator;
import io.patu.api.Pod;
import io.patu.api.PodListener;
import io.patu.api.Readiness;

/**
 * The pod lifecycle: serves CNI calls on the agent socket, keeps the pod registry, and drives the
 * whiteboard of {@link PodListener}s. A listener that appears later (a feature enabled at runtime) is
 * replayed the pods that exist, on the same thread that serves CNI calls, so it never misses or
 * doubles a change.
 *
 * <p>The same socket carries the remote shell ({@link RemoteShell}); the component's service is only
 * its two commands, {@code patu:status} and {@code patu:pods}.
 */
@Component(service = PodLifecycle.class, immediate = true, configurationPid = PodLifecycle.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE,
            Commands.FUNCTION_PROPERTY + "=status", Commands.FUNCTION_PROPERTY + "=pods"})
@Designate(ocd = PodLifecycle.Config.class)
public final class PodLifecycle {
    public static final String PID = "io.patu.lifecycle";
    private static final Logger LOG = Logger.getLogger(PodLifecycle.class.getName());

    @ObjectClassDefinition(name = "Patu lifecycle", description = "CNI service and the plain pod network")
    public @interface Config {
        @AttributeDefinition(description = "Linux bridge the pods are attached to")
        String bridgeName() default "patu0";

        @AttributeDefinition(description = "Node-local MTU: the bridge and every pod veth pair (both ends); 1500 gives"
                + " the reference plugins' plain layout (docs/mtu.md)")
        int mtu() default 65535;

        @AttributeDefinition(description = "MTU of traffic that leaves the node, given to the pods' routes off the node;"
                + " 0 finds it at every ADD from the device of the host's default route of each family (1500 without one)")
        int uplinkMtu() default 0;

        @AttributeDefinition(description = "Unix socket the CNI executable talks to (root only)")
        String socketPath() default "/run/patu/patu.sock";

        @AttributeDefinition(description = "Directory for persistent state; the pod registry goes to <stateDir>/pods.json")
        String stateDir() default "/var/lib/patu";

        @AttributeDefinition(description = "How long a CNI ADD waits for the profile's features to start (the agent"
                + " starting, a feature enabled or updated) before it is refused with CNI error 11, try again later")
        int featureStartWaitMillis() default 10000;
    }

    private final List<PodListener> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService worker = singleThread("patu-cni");
    /** Takes CNI calls in order and lets an ADD wait for the features to start (FeatureStartGate). */
    private final ExecutorService gateWorker = singleThread("patu-cni-gate");
    private final ExecutorService shellWorker = singleThread("patu-shell");
    private final PodRegistry registry;
    private final AgentSocketServer server;
    private final Config config;
    private final String version;
    private final CniCallMetrics cniCalls = new CniCallMetrics();
    private boolean activated;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile IpAllocator ipam;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ShellExecutor shell;

    /** The egress feature, when it runs: a network configuration's ipMasq must agree with it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Egress egress;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile FeatureManager features;

    /**
     * Whether the features are started: an ADD waits for them (FeatureStartGate). Readiness (AgentReadiness) is
     * tracked rather than referenced: it binds the health checks, one of which (CniSocketHealth) binds this.
     */
    private final ServiceTracker<Readiness, Readiness> readiness;
    private final FeatureStartGate gate;

    @Activate
    public PodLifecycle(Config config, BundleContext context) throws IOException {
        this.config = config;
        this.version = context.getBundle().getVersion().toString();
        this.registry = new PodRegistry(Path.of(config.stateDir()));
        cniCalls.pods(registry.all().size());
        this.readiness = new ServiceTracker<>(context, Readiness.class, null);
        readiness.open();
        this.gate = new FeatureStartGate(context, () -> features, readiness::getService);
        CniVerbs verbs = new CniVerbs(new PodPlumbing(config.bridgeName(), config.mtu(), new UplinkMtu(config.uplinkMtu())),
                registry, () -> ipam, () -> List.copyOf(listeners), () -> egress, gate::starting);
        // The CNI route comes first: it also answers requests that match no route, as CNI errors. Calls are
        // taken in order on the gate thread, where an ADD waits for the features to start (not on the worker:
        // a starting feature's pods are replayed there), then carried out on the worker one at a time.
        this.server = new AgentSocketServer(Path.of(config.socketPath()), List.of(
                new RequestRoute(WireRequest.MAGIC, WireRequest::totalLength, bytes -> {
                    if (isAdd(bytes)) {
                        awaitFeatures(config.featureStartWaitMillis());
                    }
                    return onWorker(() -> cniCalls.observe(bytes, verbs::handle, () -> registry.all().size()));
                }, CniVerbs::rejected, gateWorker),
                RemoteShell.route(() -> shell, shellWorker)));
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            worker.shutdownNow();
            gateWorker.shutdownNow();
            shellWorker.shutdownNow();
            gate.close();
            readiness.close();
            throw e;
        }
        LOG.info(() -> "Patu agent serving CNI on " + config.socketPath() + " with " + registry.all().size() + " pods");
    }

    private static boolean isAdd(byte[] bytes) {
        try {
            return "ADD".equals(WireRequest.decode(bytes).environment().get("CNI_COMMAND"));
        } catch (RuntimeException e) {
            return false; // answered as malformed by the verbs
        }
    }

    /** The wait itself; whether the ADD goes on is decided on the worker (CniVerbs), from what is started then. */
    private void awaitFeatures(long millis) {
        try {
            gate.await(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs one CNI call on the worker and waits for its answer; never throws. */
    private WireResponse onWorker(java.util.concurrent.Callable<WireResponse> call) {
        try {
            return worker.submit(call).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CniVerbs.rejected(new io.patu.api.PatuException(io.patu.api.CniError.TRY_AGAIN, "the agent is stopping; try again"));
        } catch (java.util.concurrent.ExecutionException e) {
            return CniVerbs.rejected(new io.patu.api.PatuException(io.patu.api.CniError.IO_FAILURE, "the agent failed: " + e.getCause()));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CniVerbs.rejected(new io.patu.api.PatuException(io.patu.api.CniError.TRY_AGAIN, "the agent is stopping; try again"));
        }
    }

    /** {@code patu:status}: the agent at a glance. */
    public String status() throws Exception {
        FeatureManager manager = features;
        return LifecycleTables.status(new LifecycleTables.AgentStatus(version, config.socketPath(), config.stateDir(),
                registeredPods().size(), ipam != null, shell != null, manager == null ? null : manager.list()));
    }

    /** {@code patu:pods}: every pod this agent networked. */
    public String pods() throws Exception {
        return LifecycleTables.pods(registeredPods());
    }

    /** CNI calls and pods, for {@link LifecycleMetrics}. */
    CniCallMetrics cniCalls() {
        return cniCalls;
    }

    /** The CNI socket this agent serves, for {@link CniSocketHealth}. */
    Path socketPath() {
        return Path.of(config.socketPath());
    }

    /** The registry is the CNI worker's: read it there, between two CNI calls. */
    private List<Pod> registeredPods() throws Exception {
        return worker.submit(registry::all).get(60, TimeUnit.SECONDS);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addPodListener(PodListener listener) {
        boolean replayNow;
        synchronized (listeners) {
            listeners.add(listener);
            replayNow = activated;
        }
        // Replay on the CNI thread, so no ADD or DEL interleaves with it. Listeners bound during
        // activation are replayed by replayAll instead.
        if (replayNow) {
            runOnWorker(() -> replay(listener));
        }
    }

    void removePodListener(PodListener listener) {
        listeners.remove(listener);
    }

    @Activate
    void replayAll() {
        // DS calls this after the constructor and the initial binds.
        List<PodListener> bound;
        synchronized (listeners) {
            activated = true;
            bound = List.copyOf(listeners);
        }
        for (PodListener listener : bound) {
            runOnWorker(() -> replay(listener));
        }
    }

    private void replay(PodListener listener) {
        for (Pod pod : registry.all()) {
            try {
                listener.podAdded(pod);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "pod listener " + listener + " failed to take pod " + pod.id(), e);
            }
        }
    }

    private void runOnWorker(Runnable task) {
        try {
            worker.submit(task).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "replaying pods failed", e);
        }
    }

    @Deactivate
    void deactivate() {
        // Pods stay networked through the plain path; only the CNI service stops.
        server.close();
        gate.close();
        readiness.close();
        // Not awaited: the shell thread may be the one stopping this bundle. An ADD waiting for the features
        // to start is let go (it is answered "try again").
        shellWorker.shutdown();
        gateWorker.shutdownNow();
        worker.shutdown();
        try {
            worker.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ExecutorService singleThread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, name);
            thread.setDaemon(true);
            return thread;
        });
    }
}
