package io.patu.policy.internal;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

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
import io.patu.api.NamespaceMetadata;
import io.patu.api.Pod;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.api.PodMetadata;
import io.patu.api.PodMetadataSource;

/**
 * The policy control plane: owns the policy directory's watcher, hears about local pods, joins them with
 * their metadata (the directory's Pod and Namespace objects, then any other {@link PodMetadataSource}),
 * compiles NetworkPolicy semantics and hands every new {@link CompiledPolicy} to the {@link PolicyKernel}.
 * Its service is also the Gogo commands {@code patu:policies} and {@code patu:verdict} ({@link PolicyCommands} has
 * the counters).
 */
@Component(service = {PodListener.class, PolicyAgent.class}, immediate = true, configurationPid = PolicyAgent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE,
            Commands.FUNCTION_PROPERTY + "=policies", Commands.FUNCTION_PROPERTY + "=verdict"})
@Designate(ocd = PolicyAgent.Config.class)
public final class PolicyAgent implements PodListener {
    public static final String PID = "io.patu.policy";
    private static final Logger LOG = Logger.getLogger(PolicyAgent.class.getName());

    @ObjectClassDefinition(name = "Patu policy", description = "Kubernetes NetworkPolicy from a directory of YAML/JSON files")
    public @interface Config {
        @AttributeDefinition(description = "Directory of NetworkPolicy, Namespace and Pod objects (*.yaml, *.yml, *.json), watched")
        String policyDir() default "/etc/patu/policy";

        // Read by the policy datapath component, which shares this PID; declared here so metatype documents it.
        @AttributeDefinition(description = "bpffs directory under which Patu pins its objects; the policy feature uses <dir>/policy")
        String bpffsDir() default "/sys/fs/bpf/patu";
    }

    private final Object lock = new Object();
    private final Map<PodId, Pod> pods = new LinkedHashMap<>();
    private final List<PodMetadataSource> sources = new CopyOnWriteArrayList<>();
    private final PolicyDirectory directory;
    private final Path policyDir;
    private volatile PolicyKernel kernel;
    private DirectoryContent content = DirectoryContent.EMPTY;
    private PolicyInputs inputs = PolicyInputs.of(List.of(), List.of(), List.of(), List.of());
    private CompiledPolicy compiled = new CompiledPolicy(0, Map.of());
    private long generation;
    private boolean active;
    /** What the next compilation can reuse of the last one (under the lock). */
    private final PolicyEngine.Memo memo = new PolicyEngine.Memo();

    @Activate
    public PolicyAgent(Config config) {
        this.policyDir = Path.of(config.policyDir());
        this.directory = new PolicyDirectory(policyDir, this::directoryChanged);
    }

    @Activate
    void start() {
        // After the constructor and the initial binds: read the directory before the first compile.
        DirectoryContent first = directory.start();
        synchronized (lock) {
            content = first;
            active = true;
            recompile("start");
        }
    }

    @Deactivate
    void stop() {
        directory.close();
        synchronized (lock) {
            active = false;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindKernel(PolicyKernel bound) {
        synchronized (lock) {
            kernel = bound;
            if (active) {
                try {
                    bound.apply(compiled);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "the policy datapath refused generation " + compiled.generation(), e);
                }
            }
        }
    }

    void unbindKernel(PolicyKernel unbound) {
        synchronized (lock) {
            if (kernel == unbound) {
                kernel = null;
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindSource(PodMetadataSource source) {
        sources.add(source);
        sourcesChanged("metadata source added");
    }

    void updatedSource(PodMetadataSource source) {
        sourcesChanged("metadata source changed");
    }

    void unbindSource(PodMetadataSource source) {
        sources.remove(source);
        sourcesChanged("metadata source removed");
    }

    private void sourcesChanged(String why) {
        synchronized (lock) {
            if (active) {
                recompileLogged(why);
            }
        }
    }

    private void directoryChanged(DirectoryContent next) {
        synchronized (lock) {
            content = next;
            if (active) {
                PolicyDirectory.Timing timing = directory.timing();
                recompileLogged("policy directory changed", timing);
            }
        }
    }

    @Override
    public void podAdded(Pod pod) {
        synchronized (lock) {
            Pod previous = pods.put(pod.id(), pod);
            try {
                recompile("pod " + pod.id() + " added");
            } catch (RuntimeException e) {
                if (previous == null) {
                    pods.remove(pod.id());
                } else {
                    pods.put(pod.id(), previous);
                }
                throw e;
            }
        }
    }

    @Override
    public void podRemoved(Pod pod) {
        synchronized (lock) {
            if (pods.remove(pod.id()) != null) {
                recompileLogged("pod " + pod.id() + " removed");
            }
        }
    }

    private void recompileLogged(String why) {
        recompileLogged(why, null);
    }

    private void recompileLogged(String why, PolicyDirectory.Timing timing) {
        try {
            recompile(why, timing);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "policy not applied (" + why + ")", e);
        }
    }

    private void recompile(String why) {
        recompile(why, null);
    }

    /**
     * Under the lock: new inputs, a new generation, handed to the kernel if one is bound. For a change of the
     * directory ({@code timing} given) one line says where the time went from the watcher's event to the
     * kernel (bench/policy-update.sh reads it).
     */
    private void recompile(String why, PolicyDirectory.Timing timing) {
        List<NamespaceMetadata> namespaces = new ArrayList<>(content.namespaces());
        List<PodMetadata> metadata = new ArrayList<>(content.pods());
        List<PodMetadataSource> ranked = new ArrayList<>(sources);
        for (PodMetadataSource source : ranked) {
            try {
                namespaces.addAll(source.namespaces());
                metadata.addAll(source.pods());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "pod metadata source " + source + " failed; left out", e);
            }
        }
        long started = System.nanoTime();
        PolicyInputs next = PolicyInputs.of(content.policies(), namespaces, metadata, List.copyOf(pods.values()));
        CompiledPolicy nextCompiled = PolicyEngine.compile(next, generation + 1, memo);
        int flattened = memo.computed;
        long compiledAt = System.nanoTime();
        long compiledAtMicros = PolicyDirectory.nowMicros();
        PolicyKernel target = kernel;
        if (target != null) {
            target.apply(nextCompiled);
        }
        long appliedAt = System.nanoTime();
        generation++;
        inputs = next;
        compiled = nextCompiled;
        long inForceAt = target == null ? 0 : target.inForceAtMicros();
        if (timing != null && inForceAt > 0) {
            int entries = nextCompiled.pods().values().stream().mapToInt(p -> p.ingress().size() + p.egress().size()).sum();
            int rules = next.policies().stream().mapToInt(p -> p.ingress().size() + p.egress().size()).sum();
            long kernelMicros = inForceAt - compiledAtMicros;
            LOG.info(() -> "policy change in force at " + inForceAt + " us: event at " + timing.eventAtMicros()
                    + " us, quiet " + timing.quietNanos() / 1000 + " us, read " + timing.readNanos() / 1000 + " us ("
                    + timing.parsed() + " files parsed), compiled " + (compiledAt - started) / 1000 + " us ("
                    + flattened + " flattenings), kernel "
                    + kernelMicros + " us (generation " + nextCompiled.generation() + ", " + rules + " rules, "
                    + next.pods().size() + " pods, " + entries + " entries)");
        }
        // Pod events are frequent and routine; policy and metadata changes are what an operator looks for.
        LOG.log(why.startsWith("pod ") ? Level.FINE : Level.INFO, () -> "policy generation " + nextCompiled.generation()
                + " (" + why + "): " + next.policies().size() + " policies, " + next.pods().size() + " pods, compiled in "
                + (compiledAt - started) / 1_000_000 + " ms, " + (target == null ? "no datapath bound" : "applied in "
                + (appliedAt - compiledAt) / 1_000_000 + " ms"));
    }

    /** The generation in force, for tests and the datapath. */
    CompiledPolicy compiled() {
        synchronized (lock) {
            return compiled;
        }
    }

    /** {@code patu:policies}: every policy, the local pods it selects, and every problem. */
    public String policies() {
        synchronized (lock) {
            return PolicyTables.policies(policyDir, inputs, content.problems(), compiled.generation());
        }
    }

    /** {@code patu:verdict SRC DST PORT[/PROTO]}: allow or deny, and which policies and rules decided. */
    public String verdict(String source, String destination, String port) {
        synchronized (lock) {
            return PolicyTables.verdict(inputs, source, destination, port, PolicyAgent::isNodeAddress);
        }
    }

    /** The local pod whose host veth has this ifindex, as policy sees it (for the counters); empty if none. */
    java.util.Optional<LocalPod> localPod(int hostIfIndex) {
        synchronized (lock) {
            return inputs.pods().stream().filter(p -> p.pod().hostIfIndex() == hostIfIndex).findFirst();
        }
    }

    /** What the policy directory holds in force (for tests). */
    DirectoryContent directoryContent() {
        synchronized (lock) {
            return content;
        }
    }

    /** An address of an interface in the agent's (the host's) network namespace. */
    static boolean isNodeAddress(InetAddress address) {
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** The directory's policies in force, sorted (for tests). */
    List<NetworkPolicy> policiesInForce() {
        synchronized (lock) {
            return inputs.policies().stream().sorted(Comparator.comparing(NetworkPolicy::qualifiedName)).toList();
        }
    }
}
