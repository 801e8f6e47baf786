package io.patu.datapath.sockmap.internal;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.Datapath;
import io.patu.api.Handover;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.fs.Mounts;

/**
 * Socket-layer redirection for TCP between two local pods. The agent decides which sockets take part:
 * a pod's addresses enter the {@code local_pods} map on ADD and leave it on DEL; the sockops program
 * only puts a connection into the sockhash when both of its ends are there.
 *
 * <p>Immediate: the feature's kernel objects exist while the bundle is active, whether or not anything
 * uses its services yet. Registered under its own class too, for {@link SockmapCommands}.
 */
@Component(service = {Datapath.class, PodListener.class, SockmapDatapath.class}, immediate = true,
        property = Datapath.FEATURE + "=" + SockmapDatapath.FEATURE,
        configurationPid = SockmapDatapath.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = SockmapDatapath.Config.class)
public final class SockmapDatapath implements Datapath, PodListener {
    public static final String PID = "io.patu.datapath.sockmap";
    public static final String FEATURE = "sockmap";
    private static final Logger LOG = Logger.getLogger(SockmapDatapath.class.getName());
    private static final Path BPFFS_MOUNT = Path.of("/sys/fs/bpf");

    @ObjectClassDefinition(name = "Patu datapath-sockmap", description = "Socket redirection between local pods")
    public @interface Config {
        @AttributeDefinition(description = "bpffs directory under which Patu pins its objects; this feature uses <dir>/sockmap")
        String bpffsDir() default "/sys/fs/bpf/patu";

        @AttributeDefinition(description = "cgroup v2 directory to attach sockops to; empty means the cgroup v2 root "
                + "(mounted at /sys/fs/cgroup/unified when the host has only cgroup v1)")
        String cgroupPath() default "";

        @AttributeDefinition(description = "a message shorter than this many bytes is small (see smallWriteRun)")
        int smallWriteBytes() default 256;

        @AttributeDefinition(description = "after this many small messages in a row, with nothing coming back, the "
                + "writing socket leaves socket redirection for plain TCP, which batches small writes; 0 never")
        int smallWriteRun() default 64;

        @AttributeDefinition(description = "on a connection whose MSS is at least jumboMss (pods on the node-local "
                + "jumbo MTU), a message shorter than this many bytes is small: plain TCP at that MTU beats a "
                + "redirect for streams of such writes")
        int jumboWriteBytes() default 65536;

        @AttributeDefinition(description = "a writer's MSS from which jumboWriteBytes applies instead of smallWriteBytes; 0 never")
        int jumboMss() default 16384;

        @AttributeDefinition(description = "when a redirected connection's reader, with a receive buffer under 2 MiB "
                + "that redirectReceiveBuffer cannot raise, holds more than this many bytes unread, its writer goes "
                + "through TCP, whose window makes it wait (backpressure; other readers switch at half their "
                + "buffer); 0 never")
        int redirectQueueBytes() default 64 << 20;

        @AttributeDefinition(description = "receive buffer (SO_RCVBUF) for a reader held back by backpressure whose "
                + "application did not choose one, set when TCP first carries to it; capped at twice "
                + "net.core.rmem_max; under 2 MiB it is left alone; 0 never")
        int redirectReceiveBuffer() default 8 << 20;
    }

    private final SockmapKernelState kernel;
    private final int cpus = BpfMap.possibleCpus();
    /** Which pod each address in local_pods belongs to, for the operator's view of the counters. */
    private final Map<InetAddress, PodId> podsByAddress = new ConcurrentHashMap<>();

    /** One pod address's counters, summed over CPUs; {@code pod} is null for an entry no known pod owns. */
    record PodCounters(InetAddress address, PodId pod, long msgsRedirected, long bytesRedirected) {
    }

    @Activate
    public SockmapDatapath(Config config) {
        Bpffs.ensureMounted(BPFFS_MOUNT);
        Path cgroup = config.cgroupPath().isBlank() ? CgroupV2.ensureMounted() : Path.of(config.cgroupPath());
        if (!Mounts.isFsType(cgroup, CgroupV2.MAGIC)) {
            throw new IllegalArgumentException("cgroupPath " + cgroup + " is not a cgroup v2 directory");
        }
        RedirectPolicy policy = RedirectPolicy.of(config.smallWriteBytes(), config.smallWriteRun(),
                config.redirectQueueBytes(), config.redirectReceiveBuffer(), RedirectPolicy.hostRmemMax(),
                config.jumboWriteBytes(), config.jumboMss());
        this.kernel = SockmapKernelState.attach(Path.of(config.bpffsDir(), FEATURE), cgroup);
        try {
            kernel.policy.update(new byte[4], policy.value(), BpfMap.ANY);
        } catch (RuntimeException e) {
            kernel.removeAll();
            throw e;
        }
        LOG.info(() -> "sockmap datapath attached to cgroup " + cgroup + ", pinned under " + config.bpffsDir()
                + "; " + policy.describe());
    }

    @Deactivate
    void deactivate(BundleContext context) {
        // On agent shutdown, and when another revision of this bundle replaces it (Handover), the objects stay
        // pinned and attached: the next agent or revision adopts them, so redirected connections keep being
        // redirected. Stopping only this feature removes everything it created.
        if (context.getBundle(0).getState() == Bundle.STOPPING || handingOver(context)) {
            kernel.keepForRestart();
        } else {
            kernel.removeAll();
        }
    }

    private static boolean handingOver(BundleContext context) {
        try {
            String filter = "(" + Handover.BUNDLE + "=" + context.getBundle().getSymbolicName() + ")";
            return !context.getServiceReferences(Handover.class, filter).isEmpty();
        } catch (InvalidSyntaxException | IllegalStateException e) {
            return false;
        }
    }

    @Override
    public String feature() {
        return FEATURE;
    }

    @Override
    public void podAdded(Pod pod) {
        for (PodAddress address : pod.addresses()) {
            byte[] key = SockmapLayouts.podKey(address.address());
            kernel.localPods.update(key, SockmapLayouts.podValue(pod.hostIfIndex(), SockmapLayouts.POD_F_REDIRECT), BpfMap.ANY);
            try {
                // Keep counters that survived a restart: only create the entry if there is none.
                kernel.podStats.update(key, new byte[cpus * (int) perCpuStride()], BpfMap.NOEXIST);
            } catch (NativeException e) {
                if (e.errno() != Errno.EEXIST) {
                    throw e;
                }
            }
            podsByAddress.put(address.address(), pod.id());
        }
    }

    @Override
    public void podRemoved(Pod pod) {
        for (PodAddress address : pod.addresses()) {
            byte[] key = SockmapLayouts.podKey(address.address());
            kernel.localPods.delete(key);
            kernel.podStats.delete(key);
            podsByAddress.remove(address.address());
        }
    }

    @Override
    public SequencedMap<String, Long> counters() {
        byte[] perCpu = kernel.stats.lookup(new byte[4]).orElseThrow(
                () -> new IllegalStateException("sockmap_stats has no entry 0"));
        long[] sums = SockmapLayouts.sumPerCpu(perCpu, SockmapLayouts.SOCKMAP_COUNTERS, cpus);
        SequencedMap<String, Long> counters = new LinkedHashMap<>();
        for (int i = 0; i < sums.length; i++) {
            counters.put(SockmapLayouts.SOCKMAP_COUNTERS.memberLayouts().get(i).name().orElseThrow(), sums[i]);
        }
        return counters;
    }

    /** Every pod_stats entry, in address order, read in one pass over the map (batches of entries). */
    List<PodCounters> podCounters() {
        TreeMap<String, PodCounters> byKey = new TreeMap<>();
        for (BpfMap.Entry entry : kernel.podStats.entries()) {
            long[] sums = SockmapLayouts.sumPerCpu(entry.value(), SockmapLayouts.POD_COUNTERS, cpus);
            InetAddress address = SockmapLayouts.addressOf(entry.key());
            byKey.put(HexFormat.of().formatHex(entry.key()),
                    new PodCounters(address, podsByAddress.get(address), sums[0], sums[1]));
        }
        return List.copyOf(byKey.values());
    }

    /** What is wrong with the kernel objects, for {@link SockmapHealth}. */
    List<String> kernelProblems() {
        return kernel.problems();
    }

    private static long perCpuStride() {
        return (SockmapLayouts.POD_COUNTERS.byteSize() + 7) & ~7L;
    }
}
