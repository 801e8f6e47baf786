package io.patu.policy.internal;

import io.patu.api.Pod;
import io.patu.api.PodListener;
import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.Bpffs;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The policy datapath: makes the kernel enforce each {@link CompiledPolicy} the engine hands over, on every
 * pod's host veth (bpf/policy.bpf.c, docs/policy-datapath.md).
 *
 * <p>Order on a pod ADD: the tcx hooks are attached here, before the CNI ADD answers and so before the pod's
 * first packet. Order on enable: the programs hold every new connection back while no policy has been written
 * (generation 0: existing connections go on, a TCP SYN is retried by its sender), so none is admitted before
 * the engine's first {@link #apply}; each apply writes and switches the generation, hooks every pod it names
 * that has no hooks yet, then destroys every connection the policy denies in each pod's namespace (those
 * opened while the feature was off).
 *
 * <p>Immediate: its kernel objects exist while the bundle is active. Configuration PID {@code io.patu.policy}
 * (shared with the engine), property {@code bpffsDir}.
 */
@Component(service = {PolicyKernel.class, PodListener.class, PolicyDatapath.class}, immediate = true,
        configurationPid = PolicyDatapath.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class PolicyDatapath implements PolicyKernel, PodListener {
    public static final String PID = "io.patu.policy";
    static final String FEATURE = "policy";
    private static final Logger LOG = Logger.getLogger(PolicyDatapath.class.getName());
    private static final Path BPFFS_MOUNT = Path.of("/sys/fs/bpf");

    /** Component property type; the engine's configuration class describes the PID for metatype. */
    public @interface Config {
        /** bpffs directory under which Patu pins its objects; the policy feature uses {@code <dir>/policy}. */
        String bpffsDir() default "/sys/fs/bpf/patu";
    }

    private final PolicyKernelState kernel;
    private final GenerationWriter writer;
    private final int cpus = BpfMap.possibleCpus();
    /** Pods the lifecycle told us about, by host veth ifindex: their namespaces are where sockets are revalidated. */
    private final Map<Integer, Pod> pods = new ConcurrentHashMap<>();
    private volatile long lastApplyNanos;
    private volatile long lastWriteNanos;
    private volatile long lastRevalidateNanos;
    private volatile long appliedGeneration;
    private volatile long inForceAtMicros;

    /** One pod's counters, summed over CPUs. */
    record PodCounters(int hostIfIndex, long ingressAllowed, long ingressDenied, long egressAllowed,
            long egressDenied, long flowsDecided, long socketsDestroyed) {
    }

    @Activate
    public PolicyDatapath(Config config) {
        Bpffs.ensureMounted(BPFFS_MOUNT);
        this.kernel = PolicyKernelState.load(Path.of(config.bpffsDir(), FEATURE));
        this.writer = new GenerationWriter(kernel);
        try {
            syncNodeAddresses();
        } catch (RuntimeException e) {
            kernel.removeAll();
            throw e;
        }
        LOG.info(() -> "policy datapath loaded, pinned under " + config.bpffsDir() + "/" + FEATURE + ", generation "
                + writer.current());
    }

    @Deactivate
    void deactivate(BundleContext context) {
        // On agent shutdown everything stays pinned and attached: pods stay isolated while the agent restarts.
        // Disabling the feature removes everything it created, and then all traffic is allowed.
        if (context.getBundle(0).getState() == Bundle.STOPPING) {
            keepForRestart();
        } else {
            removeAll();
        }
    }

    /** Lets go of everything and leaves it pinned: the veths stay enforced until the next agent takes over. */
    synchronized void keepForRestart() {
        kernel.keepForRestart();
    }

    /** Removes every kernel object this feature created: all traffic is allowed again. */
    synchronized void removeAll() {
        kernel.removeAll();
    }

    @Override
    public synchronized void apply(CompiledPolicy next) {
        long start = System.nanoTime();
        // The node's addresses before the generation: the programs cache a verdict per flow and generation, also
        // the "pod and its node always talk" one, so the generation switched to must meet today's addresses.
        syncNodeAddresses();
        long synced = System.nanoTime();
        long generation = writer.write(next);
        long written = System.nanoTime();
        inForceAtMicros = PolicyDirectory.nowMicros();
        for (PodRules rules : next.pods().values()) {
            if (!kernel.hasHooks(rules.hostIfIndex())) {
                try {
                    hook(rules.hostIfIndex());
                } catch (NativeException e) {
                    if (e.errno() != Errno.ENODEV) {
                        throw e;
                    }
                    // The veth is gone: the pod is being deleted, and its DEL follows.
                }
            }
        }
        long hooked = System.nanoTime();
        revalidateAll();
        appliedGeneration = generation;
        long end = System.nanoTime();
        lastApplyNanos = end - start;
        lastWriteNanos = written - start;
        lastRevalidateNanos = end - hooked;
        int writes = writer.lastWrites();
        LOG.info(() -> "policy generation " + generation + " (engine " + next.generation() + ") in force after "
                + (written - start) / 1000 + " us (node addresses " + (synced - start) / 1000 + " us, " + writes
                + " entries written or deleted), hooks " + (hooked - written) / 1000 + " us, sockets revalidated "
                + (end - hooked) / 1000 + " us");
    }

    @Override
    public long inForceAtMicros() {
        return inForceAtMicros;
    }

    @Override
    public synchronized void podAdded(Pod pod) {
        pods.put(pod.hostIfIndex(), pod);
        hook(pod.hostIfIndex());
        if (writer.current() > 0) {
            revalidate(pod); // a pod replayed after enable: its connections may predate the policy
        }
    }

    @Override
    public synchronized void podRemoved(Pod pod) {
        pods.remove(pod.hostIfIndex());
        kernel.detachHooks(pod.hostIfIndex());
        kernel.counters.delete(PolicyLayouts.u32(pod.hostIfIndex()));
    }

    /** Per-pod counters (patu_policy_counters), for the operator's commands. */
    List<PodCounters> counters() {
        List<PodCounters> all = new ArrayList<>();
        for (byte[] key : kernel.counters.keys()) {
            kernel.counters.lookup(key).ifPresent(value -> {
                long[] c = PolicyLayouts.sumCounters(value);
                all.add(new PodCounters(PolicyLayouts.u32(key), c[0], c[1], c[2], c[3], c[4], c[5]));
            });
        }
        all.sort((a, b) -> Integer.compare(a.hostIfIndex(), b.hostIfIndex()));
        return all;
    }

    /** Problems for the feature's health check: its kernel state, and whether a policy was written yet. */
    List<String> problems() {
        List<String> problems = new ArrayList<>(kernel.problems());
        if (appliedGeneration == 0) {
            problems.add("no policy generation is in the kernel yet: new connections are held back until one is");
        }
        return problems;
    }

    /** Node-wide figures: generation in force, last apply's duration, hooked veths. */
    SequencedMap<String, Long> status() {
        SequencedMap<String, Long> status = new LinkedHashMap<>();
        status.put("generation", appliedGeneration);
        status.put("last_apply_us", lastApplyNanos / 1000);
        status.put("last_write_us", lastWriteNanos / 1000); // maps written and switched: the policy is in force
        status.put("last_write_entries", (long) writer.lastWrites()); // entries the last change wrote or deleted
        status.put("last_revalidate_us", lastRevalidateNanos / 1000); // denied connections destroyed
        status.put("hooked_veths", (long) kernel.hooked().size());
        return status;
    }

    private void hook(int ifindex) {
        kernel.attachHooks(ifindex);
        try {
            // Keep counters that survived a restart.
            kernel.counters.update(PolicyLayouts.u32(ifindex), new byte[cpus * PolicyLayouts.COUNTERS_SIZE], BpfMap.NOEXIST);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
    }

    private void revalidateAll() {
        Set<String> done = new HashSet<>();
        for (Pod pod : pods.values()) {
            if (done.add(pod.netns())) {
                revalidate(pod);
            }
        }
    }

    private void revalidate(Pod pod) {
        try {
            kernel.revalidateSockets(Path.of(pod.netns()));
        } catch (Exception e) {
            // A namespace being torn down: its pod's DEL follows.
            LOG.fine(() -> "sockets of " + pod.id() + " not revalidated: " + e.getMessage());
        }
    }

    /** node_addrs := every address of this node's interfaces (the agent runs in the node's namespace). */
    private void syncNodeAddresses() {
        Set<String> wanted = new HashSet<>();
        List<byte[]> keys = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    byte[] key = PolicyLayouts.address16(address);
                    if (wanted.add(java.util.HexFormat.of().formatHex(key))) {
                        keys.add(key);
                    }
                }
            }
        } catch (SocketException e) {
            throw new IllegalStateException("cannot list this node's addresses", e);
        }
        for (byte[] key : keys) {
            kernel.nodeAddrs.update(key, new byte[] {1}, BpfMap.ANY);
        }
        for (byte[] key : kernel.nodeAddrs.keys()) {
            if (!wanted.contains(java.util.HexFormat.of().formatHex(key))) {
                kernel.nodeAddrs.delete(key);
            }
        }
    }
}
