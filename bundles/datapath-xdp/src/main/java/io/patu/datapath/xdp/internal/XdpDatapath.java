package io.patu.datapath.xdp.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.CniError;
import io.patu.api.Datapath;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.api.PortMapping;
import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;

/**
 * The packet datapath. Between local pods: a tcx program on every pod's host veth hands frames for another
 * local pod straight to it ({@code bpf_redirect_peer}) instead of through the bridge. At the node's ingress
 * devices: native XDP drops what the deny list names before an skb exists.
 *
 * <p>Immediate, like every datapath: its kernel objects exist while the bundle is active. Stopping the bundle
 * removes them and pods talk through the bridge again; stopping the agent leaves them pinned and attached for
 * the next agent.
 */
@Component(service = {Datapath.class, PodListener.class, XdpDatapath.class}, immediate = true,
        property = Datapath.FEATURE + "=" + XdpDatapath.FEATURE,
        configurationPid = XdpDatapath.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = XdpDatapath.Config.class)
public final class XdpDatapath implements Datapath, PodListener {
    public static final String PID = "io.patu.datapath.xdp";
    public static final String FEATURE = "xdp";
    /** Where the policy bundle pins its maps, under bpffsDir, and the one fast paths consult (docs/veth-hooks.md). */
    static final String POLICY_FEATURE = "policy";
    static final String POLICY_ISOLATED_MAP = "ingress_isolated";
    private static final Logger LOG = Logger.getLogger(XdpDatapath.class.getName());
    private static final Path BPFFS_MOUNT = Path.of("/sys/fs/bpf");

    @ObjectClassDefinition(name = "Patu datapath-xdp",
            description = "tcx delivery between local pods; native XDP deny list on the node's ingress devices")
    public @interface Config {
        @AttributeDefinition(description = "bpffs directory under which Patu pins its objects; this feature uses <dir>/xdp")
        String bpffsDir() default "/sys/fs/bpf/patu";

        @AttributeDefinition(description = "devices where traffic enters the node, given native XDP (never generic); "
                + "a device whose driver has no native XDP is refused", required = false)
        String[] ingressDevices() default {};

        @AttributeDefinition(description = "deny list of the ingress devices, one rule a string: "
                + "CIDR [PROTOCOL [PORT|FIRST-LAST]], matched against the source address and destination port; "
                + "overlapping rules are refused", required = false)
        String[] denyRules() default {};

        @AttributeDefinition(description = "cgroup v2 directory whose processes are the node's own clients of published "
                + "ports (socket-level translation in connect/sendmsg/recvmsg); empty means the cgroup v2 root, i.e. every "
                + "process of the node", required = false)
        String nodeCgroup() default "";

        @AttributeDefinition(description = "seconds between two readings of the node's addresses, on which ports "
                + "published on every address answer, and of the policy feature's pinned ingress_isolated, which the "
                + "published ports' fast path consults", required = false)
        int nodeAddressSeconds() default 5;

        @AttributeDefinition(description = "devices without native XDP on which traffic from the network reaches "
                + "published ports, translated by tcx (the ingressDevices do it in XDP); no deny list there",
                required = false)
        String[] publishDevices() default {};
    }

    /** One pod's counters, summed over CPUs. */
    record PodCounters(PodId pod, String hostVeth, List<InetAddress> addresses, long deliveredPackets,
            long deliveredBytes, long passedPackets) {
    }

    /** One ingress device with its counters. */
    record DeviceCounters(String device, int ifindex, long passedPackets, long droppedPackets, long droppedBytes) {
    }

    /** One published port as the kernel holds it. */
    record PublishedPort(PodId pod, String hostVeth, PortMapping mapping, InetAddress podAddress) {
    }

    /** One deny rule in its slot, with its drop counters. */
    record RuleCounters(int slot, DenyRule rule, long droppedPackets, long droppedBytes) {
    }

    private final XdpKernelState kernel;
    private final int cpus = BpfMap.possibleCpus();
    private final Map<Integer, Pod> podsByIfindex = new ConcurrentHashMap<>();
    /** Deny rules by slot (null: free); guarded by this. */
    private final DenyRule[] rules = new DenyRule[XdpLayouts.MAX_RULES];
    /** Ingress devices attached: name -> ifindex; guarded by this. */
    private final Map<String, Integer> devices = new LinkedHashMap<>();
    private volatile String configurationError;
    /** port_map keys (as lists of bytes) this agent wrote, with the port they publish; guarded by this. */
    private final Map<List<Byte>, PublishedPort> ports = new LinkedHashMap<>();
    private final NodeAddresses nodeAddresses;
    /** Devices with the tcx translation of published ports: name -> ifindex; guarded by this. */
    private final Map<String, Integer> publishDevices = new LinkedHashMap<>();
    private volatile String publishError;
    /** The policy bundle's map of pods isolated for ingress (docs/veth-hooks.md), by path: no class of it is used. */
    private final Path policyPin;
    private volatile String policyError;
    /** Follows policy's pins as they change; null when inotify was refused (the timer still follows them). */
    private final PolicyPinWatch policyPins;

    /**
     * Starts the datapath. An ingress configuration that cannot be applied (unknown device, a driver without
     * native XDP, a malformed or overlapping rule) attaches no ingress device and no rule, and is reported in
     * the log and by {@code patu:xdp}; delivery between pods runs all the same.
     */
    @Activate
    public XdpDatapath(Config config) {
        Bpffs.ensureMounted(BPFFS_MOUNT);
        this.kernel = XdpKernelState.load(Path.of(config.bpffsDir(), FEATURE));
        this.policyPin = Path.of(config.bpffsDir(), POLICY_FEATURE, POLICY_ISOLATED_MAP);
        this.nodeAddresses = new NodeAddresses(kernel.nodeAddrs, config.nodeAddressSeconds(), this::followPolicy);
        try {
            removeStaleLinks(configuredIfindexes(config), configuredPublishIfindexes(config));
            // Ports a previous agent published stay in the pinned port_map across a restart (they keep answering);
            // the replayed pods take their entries over.
            kernel.attachSockets(config.nodeCgroup().isBlank() ? CgroupV2.ensureMounted() : Path.of(config.nodeCgroup()));
            nodeAddresses.start(); // follows policy's pin once, too
            policyPins = PolicyPinWatch.start(policyPin.getParent(), this::followPolicy);
            if (!applyOrReport(config, "xdp ingress configuration refused, no ingress device or deny rule is in force")) {
                // Neither the refused configuration nor what a previous agent left pinned stays in force.
                for (String name : kernel.pinnedLinks()) {
                    if (name.startsWith(XdpKernelState.INGRESS_LINK_PREFIX)
                            || name.startsWith(XdpKernelState.HANDOFF_LINK_PREFIX)) {
                        kernel.removeStalePin(name);
                    }
                }
                apply(List.of(), Map.of());
            }
            applyPublishOrReport(config);
        } catch (RuntimeException e) {
            closeFollowers();
            kernel.removeAll();
            throw e;
        }
        LOG.info(() -> "xdp datapath pinned under " + config.bpffsDir() + "; ingress devices " + devices.keySet()
                + ", " + ruleCounters().size() + " deny rule(s)");
    }

    /**
     * A new configuration: ingress devices and deny rules change in place, the pods keep their programs. A
     * configuration that cannot be applied changes nothing and is reported.
     */
    @Modified
    void modified(Config config) {
        applyOrReport(config, "xdp ingress configuration refused, the previous one stays in force");
        applyPublishOrReport(config);
    }

    /** Puts the tcx translation on exactly the configured publishDevices; a refused list is reported. */
    private void applyPublishOrReport(Config config) {
        try {
            applyPublishDevices(resolveDevices(config.publishDevices()));
            publishError = null;
        } catch (IllegalArgumentException | NativeException e) {
            publishError = e.getMessage();
            LOG.severe(() -> "publishDevices refused, the previous ones stay in force: " + e.getMessage());
        }
    }

    private synchronized void applyPublishDevices(Map<String, Integer> wanted) {
        List<Integer> attachedHere = new ArrayList<>();
        try {
            for (int ifindex : wanted.values()) {
                if (!publishDevices.containsValue(ifindex)) {
                    kernel.attachPublish(ifindex);
                    attachedHere.add(ifindex);
                }
            }
        } catch (RuntimeException e) {
            attachedHere.forEach(kernel::detachPublish);
            throw e;
        }
        for (int ifindex : List.copyOf(publishDevices.values())) {
            if (!wanted.containsValue(ifindex)) {
                kernel.detachPublish(ifindex);
            }
        }
        publishDevices.clear();
        publishDevices.putAll(wanted);
    }

    /** Devices with the tcx translation of published ports, for the operator. */
    synchronized Map<String, Integer> publishDevices() {
        return Map.copyOf(publishDevices);
    }

    /** Applies the ingress configuration; false, logged and kept for {@code patu:xdp}, if it was refused. */
    private boolean applyOrReport(Config config, String consequence) {
        try {
            apply(parseRules(config.denyRules()), resolveDevices(config.ingressDevices()));
            configurationError = null;
            return true;
        } catch (IllegalArgumentException e) {
            configurationError = e.getMessage();
            LOG.severe(() -> consequence + ": " + e.getMessage()
                    + (e.getCause() != null ? " (" + e.getCause().getMessage() + ")" : ""));
            return false;
        }
    }

    /**
     * Problems for the feature's health check: its kernel state, and an ingress configuration that was
     * refused (then no deny rule protects the node, although pods are still delivered).
     */
    List<String> problems() {
        List<String> problems = new java.util.ArrayList<>(kernel.problems());
        configurationError().ifPresent(error -> problems.add("the ingress configuration was refused, so no ingress"
                + " device has the deny list: " + error));
        String publish = publishError;
        if (publish != null) {
            problems.add("publishDevices was refused: " + publish);
        }
        String policy = policyError;
        if (policy != null) {
            problems.add(policy);
        }
        return problems;
    }

    /** Why the last ingress configuration was refused; empty when it is in force. */
    Optional<String> configurationError() {
        return Optional.ofNullable(configurationError);
    }

    @Deactivate
    void deactivate(BundleContext context) {
        // On agent shutdown everything stays pinned and attached, so pods keep their fast path across a
        // restart; stopping only this feature removes everything it created.
        if (context.getBundle(0).getState() == Bundle.STOPPING) {
            keepForRestart();
        } else {
            close();
        }
    }

    /** Stops the datapath and removes its objects, as stopping the bundle does. */
    void close() {
        closeFollowers();
        kernel.removeAll();
    }

    private void closeFollowers() {
        nodeAddresses.close();
        if (policyPins != null) {
            policyPins.close();
        }
    }

    /** Lets go of the objects and leaves them working, as stopping the agent does. */
    void keepForRestart() {
        closeFollowers();
        kernel.keepForRestart();
    }

    @Override
    public boolean servesPortMappings() {
        return true;
    }

    @Override
    public String feature() {
        return FEATURE;
    }

    /**
     * Makes the fast path of published ports consult the policy bundle's ingress_isolated as it is pinned now.
     * Called at activation, when policy's pin directory changes (inotify), on every pod ADD and every
     * {@code nodeAddressSeconds}: the policy bundle may start after this one or re-create its map, and this
     * bundle does not depend on it.
     */
    void followPolicy() {
        try {
            String change = kernel.followPolicy(policyPin);
            if (change != null) {
                LOG.info(change);
            }
            policyError = null;
        } catch (RuntimeException e) {
            String error = "cannot consult " + policyPin + " (" + e.getMessage() + "): pods policy isolates may be"
                    + " reached through published ports without their veth's policy";
            if (!error.equals(policyError)) {
                LOG.severe(error);
            }
            policyError = error;
        }
    }

    @Override
    public void podAdded(Pod pod) {
        followPolicy();
        for (PodAddress address : pod.addresses()) {
            kernel.podDest.update(XdpLayouts.podKey(address.address()), XdpLayouts.podDest(pod.hostIfIndex(), pod.mac()),
                    BpfMap.ANY);
        }
        try {
            // Counters that survived an agent restart are kept.
            kernel.podCounters.update(XdpLayouts.u32(pod.hostIfIndex()),
                    XdpLayouts.zeroPerCpu(XdpLayouts.POD_COUNTERS, cpus), BpfMap.NOEXIST);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
        kernel.attachPod(pod.hostIfIndex());
        podsByIfindex.put(pod.hostIfIndex(), pod);
        // Last: a host port held by another pod fails an ADD (which then removes the pod again), while a replay
        // that meets one still leaves the pod its delivery.
        publish(pod);
    }

    @Override
    public void podRemoved(Pod pod) {
        for (PodAddress address : pod.addresses()) {
            kernel.podDest.delete(XdpLayouts.podKey(address.address()));
        }
        kernel.detachPod(pod.hostIfIndex());
        kernel.podCounters.delete(XdpLayouts.u32(pod.hostIfIndex()));
        podsByIfindex.remove(pod.hostIfIndex());
        unpublish(pod);
    }

    /**
     * Writes the pod's published ports into port_map: one entry per mapping and family (a mapping on every node
     * address serves each family the pod has an address of). A host port another pod publishes is refused
     * before anything is written, which fails the pod's ADD.
     */
    private synchronized void publish(Pod pod) {
        Map<List<Byte>, PublishedPort> wanted = new LinkedHashMap<>();
        Map<List<Byte>, byte[]> values = new LinkedHashMap<>();
        for (PortMapping mapping : pod.portMappings()) {
            int protocol = mapping.protocol().equals(PortMapping.UDP) ? XdpLayouts.UDP : XdpLayouts.TCP;
            boolean served = false;
            for (PodAddress address : pod.addresses()) {
                if (!mapping.appliesTo(address.address())) {
                    continue;
                }
                served = true;
                byte[] key = XdpLayouts.portKey(mapping.hostIp(), mapping.hostPort(), protocol, address.isIpv4());
                List<Byte> id = bytes(key);
                PublishedPort holder = ports.get(id);
                if (holder != null && !holder.pod().equals(pod.id())) {
                    throw new PatuException(CniError.NOT_AVAILABLE, "host port " + mapping + " is already published by "
                            + holder.pod() + " (" + holder.mapping() + ")", "publish another host port", null);
                }
                wanted.put(id, new PublishedPort(pod.id(), pod.hostVeth(), mapping, address.address()));
                values.put(id, XdpLayouts.portDest(address.address(), mapping.containerPort(), pod.hostIfIndex()));
            }
            if (!served) {
                throw new PatuException(CniError.INVALID_NETWORK_CONFIG, "port " + mapping + " is published on an "
                        + (mapping.hostIp() instanceof java.net.Inet4Address ? "IPv4" : "IPv6")
                        + " address, and the pod has no address of that family");
            }
        }
        if (wanted.isEmpty()) {
            return;
        }
        nodeAddresses.refresh();
        wanted.forEach((id, port) -> {
            kernel.portMap.update(array(id), values.get(id), BpfMap.ANY);
            ports.put(id, port);
        });
        writeConfig();
        LOG.info(() -> pod.id() + " publishes " + pod.portMappings());
    }

    /** Removes the pod's published ports and the translation state of its connections. */
    private synchronized void unpublish(Pod pod) {
        boolean changed = false;
        for (var it = ports.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (entry.getValue().pod().equals(pod.id())) {
                kernel.portMap.delete(array(entry.getKey()));
                it.remove();
                changed = true;
            }
        }
        // Also entries a previous agent wrote for this pod (not replayed into this run's memory).
        Set<List<Byte>> podAddresses = new HashSet<>();
        pod.addresses().forEach(a -> podAddresses.add(bytes(XdpLayouts.podKey(a.address()))));
        for (BpfMap.Entry entry : kernel.portMap.entries()) {
            if (podAddresses.contains(bytes(XdpLayouts.addressBytes(entry.value(), 0)))) {
                kernel.portMap.delete(entry.key());
                changed = true;
            }
        }
        for (byte[] key : kernel.natBack.keys()) {
            if (podAddresses.contains(bytes(XdpLayouts.addressBytes(key, 0)))) {
                kernel.natBack.delete(key);
            }
        }
        for (byte[] key : kernel.sockNatBack.keys()) {
            if (podAddresses.contains(bytes(XdpLayouts.addressBytes(key, 8)))) {
                kernel.sockNatBack.delete(key);
            }
        }
        if (changed) {
            writeConfig();
        }
    }

    /** The keys of port_map, as the kernel holds them (for tests and checks). */
    List<byte[]> kernelPortEntries() {
        return kernel.portMap.keys();
    }

    /** How many connections nat_back and sock_nat_back remember. */
    int kernelNatEntries() {
        return kernel.natBack.keys().size() + kernel.sockNatBack.keys().size();
    }

    /** Every published port, for the operator. */
    synchronized List<PublishedPort> publishedPorts() {
        return List.copyOf(ports.values());
    }

    /** The id of the map the fast path consults for policy's isolated pods, if any. */
    Optional<Integer> followedPolicyMap() {
        return kernel.policyIsolated.lookup(XdpLayouts.u32(0)).map(XdpLayouts::u32);
    }

    /**
     * The port translation counters, summed over CPUs: translated on ingress devices, from pods, replies, node
     * sockets; then of those from ingress devices, delivered straight to the pod, and left to the stack because
     * policy isolates the pod.
     */
    long[] portCounters() {
        return kernel.portCounters.lookup(XdpLayouts.u32(0))
                .map(v -> XdpLayouts.sumPerCpu(v, XdpLayouts.PORT_COUNTERS, cpus)).orElse(new long[6]);
    }

    private static List<Byte> bytes(byte[] array) {
        List<Byte> list = new ArrayList<>(array.length);
        for (byte b : array) {
            list.add(b);
        }
        return List.copyOf(list);
    }

    private static byte[] array(List<Byte> list) {
        byte[] array = new byte[list.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = list.get(i);
        }
        return array;
    }

    @Override
    public SequencedMap<String, Long> counters() {
        long[] pods = new long[3];
        for (PodCounters pod : podCounters()) {
            pods[0] += pod.deliveredPackets();
            pods[1] += pod.deliveredBytes();
            pods[2] += pod.passedPackets();
        }
        long[] ingress = new long[3];
        for (DeviceCounters device : deviceCounters()) {
            ingress[0] += device.passedPackets();
            ingress[1] += device.droppedPackets();
            ingress[2] += device.droppedBytes();
        }
        SequencedMap<String, Long> counters = new LinkedHashMap<>();
        counters.put("delivered_packets", pods[0]);
        counters.put("delivered_bytes", pods[1]);
        counters.put("passed_packets", pods[2]);
        counters.put("ingress_passed_packets", ingress[0]);
        counters.put("ingress_dropped_packets", ingress[1]);
        counters.put("ingress_dropped_bytes", ingress[2]);
        long[] translated = portCounters();
        counters.put("ports_ingress_translated", translated[0]);
        counters.put("ports_pod_translated", translated[1]);
        counters.put("ports_replies_translated", translated[2]);
        counters.put("ports_sockets_translated", translated[3]);
        counters.put("ports_ingress_delivered", translated[4]);
        counters.put("ports_ingress_isolated", translated[5]);
        return counters;
    }

    /** Every pod this datapath serves, in host veth order. */
    List<PodCounters> podCounters() {
        TreeMap<String, PodCounters> byVeth = new TreeMap<>();
        for (Pod pod : podsByIfindex.values()) {
            long[] sums = kernel.podCounters.lookup(XdpLayouts.u32(pod.hostIfIndex()))
                    .map(v -> XdpLayouts.sumPerCpu(v, XdpLayouts.POD_COUNTERS, cpus)).orElse(new long[3]);
            byVeth.put(pod.hostVeth(), new PodCounters(pod.id(), pod.hostVeth(),
                    pod.addresses().stream().map(PodAddress::address).toList(), sums[0], sums[1], sums[2]));
        }
        return List.copyOf(byVeth.values());
    }

    synchronized List<DeviceCounters> deviceCounters() {
        List<DeviceCounters> out = new ArrayList<>();
        devices.forEach((name, ifindex) -> {
            long[] sums = kernel.deviceCounters.lookup(XdpLayouts.u32(ifindex))
                    .map(v -> XdpLayouts.sumPerCpu(v, XdpLayouts.DEVICE_COUNTERS, cpus)).orElse(new long[3]);
            out.add(new DeviceCounters(name, ifindex, sums[0], sums[1], sums[2]));
        });
        return out;
    }

    synchronized List<RuleCounters> ruleCounters() {
        List<RuleCounters> out = new ArrayList<>();
        for (int slot = 0; slot < rules.length; slot++) {
            if (rules[slot] != null) {
                long[] sums = kernel.ruleCounters.lookup(XdpLayouts.u32(slot))
                        .map(v -> XdpLayouts.sumPerCpu(v, XdpLayouts.RULE_COUNTERS, cpus)).orElse(new long[2]);
                out.add(new RuleCounters(slot, rules[slot], sums[0], sums[1]));
            }
        }
        return out;
    }

    /** The programs' kernel ids and link pins, for the operator. */
    List<String> links() {
        return kernel.pinnedLinks();
    }

    /** Adds a deny rule at run time (until the configuration changes or the agent restarts). */
    synchronized RuleCounters addRule(String text) {
        DenyRule rule = DenyRule.parse(text);
        for (DenyRule existing : rules) {
            if (existing != null && existing.overlaps(rule)) {
                throw new IllegalArgumentException("deny rule '" + rule + "' overlaps rule '" + existing
                        + "'; remove that one first or make them disjoint");
            }
        }
        for (int slot = 0; slot < rules.length; slot++) {
            if (rules[slot] == null) {
                writeRule(slot, rule);
                rules[slot] = rule;
                writeSlots();
                return new RuleCounters(slot, rule, 0, 0);
            }
        }
        throw new IllegalArgumentException("the deny list is full (" + rules.length + " rules)");
    }

    /** Removes the deny rule written as {@code text} (in any spelling {@link DenyRule#parse} reads). */
    synchronized DenyRule removeRule(String text) {
        DenyRule rule = DenyRule.parse(text);
        for (int slot = 0; slot < rules.length; slot++) {
            if (rule.equals(rules[slot])) {
                rules[slot] = null;
                writeSlots();
                kernel.denyRules.update(XdpLayouts.u32(slot), new byte[(int) XdpLayouts.RULE.byteSize()], BpfMap.ANY);
                return rule;
            }
        }
        throw new IllegalArgumentException("no deny rule '" + rule + "'");
    }

    private static List<DenyRule> parseRules(String[] texts) {
        List<DenyRule> parsed = new ArrayList<>();
        for (String text : texts == null ? new String[0] : texts) {
            DenyRule rule = DenyRule.parse(text);
            for (DenyRule earlier : parsed) {
                if (earlier.overlaps(rule)) {
                    throw new IllegalArgumentException("deny rule '" + rule + "' overlaps deny rule '" + earlier
                            + "': a packet may match only one rule");
                }
            }
            parsed.add(rule);
        }
        if (parsed.size() > XdpLayouts.MAX_RULES) {
            throw new IllegalArgumentException(parsed.size() + " deny rules, at most " + XdpLayouts.MAX_RULES);
        }
        return parsed;
    }

    private static Map<String, Integer> resolveDevices(String[] names) {
        Map<String, Integer> resolved = new LinkedHashMap<>();
        try (RtNetlink host = RtNetlink.open()) {
            for (String name : names == null ? new String[0] : names) {
                String trimmed = name.strip();
                if (trimmed.isEmpty()) {
                    continue;
                }
                Link link = host.link(trimmed).orElseThrow(() -> new IllegalArgumentException(
                        "ingress device '" + trimmed + "' does not exist"));
                resolved.put(trimmed, link.index());
            }
        }
        return resolved;
    }

    /** The ifindexes of the configured publish devices; none if the list cannot be resolved. */
    private static Set<Integer> configuredPublishIfindexes(Config config) {
        try {
            return new HashSet<>(resolveDevices(config.publishDevices()).values());
        } catch (IllegalArgumentException e) {
            return Set.of();
        }
    }

    /** The ifindexes of the configured ingress devices that exist; none if the list cannot be resolved. */
    private static Set<Integer> configuredIfindexes(Config config) {
        try {
            return new HashSet<>(resolveDevices(config.ingressDevices()).values());
        } catch (IllegalArgumentException e) {
            return Set.of();
        }
    }

    /**
     * Link pins a previous agent left for pods whose veth is gone, or for ingress devices no longer configured.
     * The others are taken over in place when the pods are replayed and the configuration applied, so a deny
     * list is never off across a restart.
     */
    private void removeStaleLinks(Set<Integer> keepIngress, Set<Integer> keepPublish) {
        Set<Integer> present = new HashSet<>();
        try (RtNetlink host = RtNetlink.open()) {
            host.links().forEach(l -> present.add(l.index()));
        }
        for (String name : kernel.pinnedLinks()) {
            if (name.startsWith(XdpKernelState.SOCK_LINK_PREFIX)) {
                continue; // taken over in place at activation
            }
            boolean pod = name.startsWith(XdpKernelState.POD_LINK_PREFIX);
            int ifindex = Integer.parseInt(name.substring(name.lastIndexOf('_') + 1));
            Set<Integer> keep = name.startsWith(XdpKernelState.PUBLISH_LINK_PREFIX) ? keepPublish : keepIngress;
            if (pod ? !present.contains(ifindex) : !keep.contains(ifindex)) {
                kernel.removeStalePin(name);
            }
        }
    }

    /**
     * Makes the kernel hold {@code wanted} and native XDP on exactly {@code wantedDevices}. Devices are attached
     * first; if one is refused, those attached here are detached again and nothing else changes.
     */
    private synchronized void apply(List<DenyRule> wanted, Map<String, Integer> wantedDevices) {
        List<Integer> attachedHere = new ArrayList<>();
        try {
            for (Map.Entry<String, Integer> device : wantedDevices.entrySet()) {
                if (!devices.containsValue(device.getValue())) {
                    attachIngress(device.getKey(), device.getValue());
                    attachedHere.add(device.getValue());
                }
            }
        } catch (RuntimeException e) {
            for (int ifindex : attachedHere) {
                kernel.detachIngress(ifindex);
                kernel.deviceCounters.delete(XdpLayouts.u32(ifindex));
            }
            throw e;
        }
        for (Map.Entry<String, Integer> device : List.copyOf(devices.entrySet())) {
            if (!wantedDevices.containsValue(device.getValue())) {
                kernel.detachIngress(device.getValue());
                kernel.deviceCounters.delete(XdpLayouts.u32(device.getValue()));
            }
        }
        devices.clear();
        devices.putAll(wantedDevices);
        // Rules: the kept ones stay in their slots (and keep their counters), new ones take free slots.
        DenyRule[] next = new DenyRule[rules.length];
        List<DenyRule> added = new ArrayList<>();
        for (DenyRule rule : wanted) {
            int slot = java.util.Arrays.asList(rules).indexOf(rule);
            if (slot >= 0) {
                next[slot] = rule;
            } else {
                added.add(rule);
            }
        }
        for (DenyRule rule : added) {
            int slot = java.util.Arrays.asList(next).indexOf(null);
            next[slot] = rule;
        }
        for (int slot = 0; slot < rules.length; slot++) {
            if (next[slot] == null) {
                kernel.denyRules.update(XdpLayouts.u32(slot), new byte[(int) XdpLayouts.RULE.byteSize()], BpfMap.ANY);
            } else if (!next[slot].equals(rules[slot])) {
                writeRule(slot, next[slot]);
            }
            rules[slot] = next[slot];
        }
        writeSlots();
    }

    private void attachIngress(String name, int ifindex) {
        try {
            kernel.deviceCounters.update(XdpLayouts.u32(ifindex),
                    XdpLayouts.zeroPerCpu(XdpLayouts.DEVICE_COUNTERS, cpus), BpfMap.ANY);
            // The hand-off first: from the XDP program's first translated packet on, someone delivers it.
            kernel.attachHandoff(ifindex);
            kernel.attachIngress(ifindex);
        } catch (NativeException e) {
            kernel.detachIngress(ifindex);
            kernel.deviceCounters.delete(XdpLayouts.u32(ifindex));
            if (e.errno() == Errno.ENOTSUP) {
                throw new IllegalArgumentException("ingress device '" + name + "' (" + driverOf(name)
                        + ") cannot run native XDP; Patu does not fall back to generic XDP", e);
            }
            if (e.errno() == Errno.EBUSY || e.errno() == Errno.EEXIST) {
                throw new IllegalArgumentException("ingress device '" + name
                        + "' already has an XDP program of someone else; detach it first", e);
            }
            throw new IllegalArgumentException("cannot attach XDP to ingress device '" + name + "': " + e.getMessage(), e);
        }
    }

    /** The device's driver, as the operator would look it up, for error messages. */
    private static String driverOf(String device) {
        Path driver = Path.of("/sys/class/net", device, "device", "driver");
        try {
            return "driver " + Files.readSymbolicLink(driver).getFileName();
        } catch (IOException e) {
            return "a virtual device without a driver of its own";
        }
    }

    private void writeRule(int slot, DenyRule rule) {
        // Counters first, so a rule's count starts at its own first drop.
        kernel.ruleCounters.update(XdpLayouts.u32(slot), XdpLayouts.zeroPerCpu(XdpLayouts.RULE_COUNTERS, cpus), BpfMap.ANY);
        kernel.denyRules.update(XdpLayouts.u32(slot), XdpLayouts.rule(rule), BpfMap.ANY);
    }

    private void writeSlots() {
        writeConfig();
    }

    /** xdp_config: the deny rule slots in use, and whether any port is published (else no packet looks). */
    private synchronized void writeConfig() {
        int used = 0;
        for (int slot = 0; slot < rules.length; slot++) {
            if (rules[slot] != null) {
                used = slot + 1;
            }
        }
        int published = ports.size();
        if (published == 0) {
            published = kernel.portMap.keys().size(); // a previous agent's entries, until their pods are replayed
        }
        kernel.config.update(new byte[4], XdpLayouts.config(used, published), BpfMap.ANY);
    }
}
