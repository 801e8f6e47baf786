package io.patu.datapath.xdp.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import java.util.stream.Stream;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.AttachType;
import io.patu.kernel.bpf.BpfLink;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.BpfObject;
import io.patu.kernel.bpf.BpfProgram;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.bpf.PinDirectoryLock;

/**
 * The kernel objects of the packet datapath, pinned under one bpffs directory: the maps, one tcx link per pod
 * host veth ({@code link_pod_<ifindex>}) and one XDP link per ingress device ({@code link_ingress_<ifindex>}). Links
 * left pinned by a previous agent are taken over and given this bundle's program in place, so an agent
 * restart or a bundle update never leaves a pod without its program.
 */
final class XdpKernelState {
    static final String OBJECT_RESOURCE = "/bpf/xdp.bpf.o";
    static final String POD_LINK_PREFIX = "link_pod_";
    static final String INGRESS_LINK_PREFIX = "link_ingress_";
    /** The node's socket hooks on the configured cgroup: {@code link_sock_<hook>}, e.g. link_sock_connect4. */
    static final String SOCK_LINK_PREFIX = "link_sock_";
    /**
     * The delivery of published ports on the tcx ingress of each ingress device, after its XDP program:
     * {@code link_handoff_<ifindex>}.
     */
    static final String HANDOFF_LINK_PREFIX = "link_handoff_";
    /** Published ports on a device without native XDP: tcx ingress, {@code link_publish_<ifindex>}. */
    static final String PUBLISH_LINK_PREFIX = "link_publish_";
    /** The socket hooks, by link name suffix: the program is patu_sock_<hook>. */
    static final java.util.List<String> SOCK_HOOKS = java.util.List.of("connect4", "connect6", "sendmsg4", "sendmsg6",
            "recvmsg4", "recvmsg6");
    private static final Logger LOG = Logger.getLogger(XdpKernelState.class.getName());

    final BpfMap podDest;
    final BpfMap podCounters;
    final BpfMap denyRules;
    final BpfMap ruleCounters;
    final BpfMap deviceCounters;
    final BpfMap config;
    final BpfMap portMap;
    final BpfMap natBack;
    final BpfMap sockNatBack;
    final BpfMap nodeAddrs;
    final BpfMap portCounters;
    /** Slot 0: the policy bundle's ingress_isolated map, while its pin exists. */
    final BpfMap policyIsolated;
    final BpfProgram deliver;
    final BpfProgram handoff;
    final BpfProgram ingress;
    final BpfProgram publish;
    private final BpfObject object;
    private final Path pinDir;
    private final PinDirectoryLock ownership;
    /** Links this agent holds, by pin name. */
    private final Map<String, BpfLink> links = new ConcurrentHashMap<>();

    private XdpKernelState(BpfObject object, Path pinDir, PinDirectoryLock ownership) {
        this.object = object;
        this.pinDir = pinDir;
        this.ownership = ownership;
        this.podDest = object.map("pod_dest");
        this.podCounters = object.map("pod_counters");
        this.denyRules = object.map("deny_rules");
        this.ruleCounters = object.map("rule_counters");
        this.deviceCounters = object.map("device_counters");
        this.config = object.map("xdp_config");
        this.portMap = object.map("port_map");
        this.natBack = object.map("nat_back");
        this.sockNatBack = object.map("sock_nat_back");
        this.nodeAddrs = object.map("node_addrs");
        this.portCounters = object.map("port_counters");
        this.policyIsolated = object.map("policy_isolated");
        this.deliver = object.program("patu_tcx_deliver");
        this.handoff = object.program("patu_tcx_ingress");
        this.ingress = object.program("patu_xdp_ingress");
        this.publish = object.program("patu_tcx_publish");
    }

    /** Loads the object and takes over the maps pinned under {@code pinDir}, if any. */
    static XdpKernelState load(Path pinDir) {
        PinDirectoryLock ownership = PinDirectoryLock.acquire(pinDir);
        BpfObject object = null;
        try {
            Files.createDirectories(pinDir);
            object = BpfObject.open(readObject(), "patu_xdp");
            object.pinMapsUnder(pinDir);
            try {
                object.load();
            } catch (NativeException e) {
                if (!hasMapPins(pinDir)) {
                    throw e;
                }
                // Pins of another Patu version whose maps do not match: replace them. Nobody owns them (we hold
                // the directory's lock); traffic they steer takes the bridge until the pods are replayed.
                LOG.warning(() -> "pinned maps under " + pinDir + " do not match this datapath (" + e.getMessage()
                        + "); replacing them");
                object.close();
                removeMapPins(pinDir);
                object = BpfObject.open(readObject(), "patu_xdp");
                object.pinMapsUnder(pinDir);
                object.load();
            }
            return new XdpKernelState(object, pinDir, ownership);
        } catch (IOException e) {
            close(object, ownership);
            throw new UncheckedIOException("cannot create pin directory " + pinDir, e);
        } catch (RuntimeException e) {
            close(object, ownership);
            throw e;
        }
    }

    private static void close(BpfObject object, PinDirectoryLock ownership) {
        if (object != null) {
            object.close();
        }
        ownership.close();
    }

    /** Puts the delivery program on the tcx ingress of a pod's host veth (appended: policy stays first). */
    void attachPod(int ifindex) {
        attach(POD_LINK_PREFIX + ifindex, pin -> deliver.attachTcx(ifindex, AttachType.TCX_INGRESS, false, pin));
    }

    /** Puts the deny-list program on an ingress device, natively. */
    void attachIngress(int ifindex) {
        attach(INGRESS_LINK_PREFIX + ifindex, pin -> ingress.attachXdp(ifindex, pin));
    }

    /**
     * Puts the hand-off of published ports (what XDP translated goes straight to the pod) on the tcx ingress of
     * an ingress device.
     */
    void attachHandoff(int ifindex) {
        attach(HANDOFF_LINK_PREFIX + ifindex, pin -> handoff.attachTcx(ifindex, AttachType.TCX_INGRESS, false, pin));
    }

    void detachHandoff(int ifindex) {
        release(HANDOFF_LINK_PREFIX + ifindex);
    }

    /**
     * Makes slot 0 of policy_isolated hold the map pinned at {@code pin} (the policy bundle's ingress_isolated),
     * or nothing when there is no such pin. Cheap when nothing changed: one stat, one open, two id reads.
     * Returns a description of what changed, or null.
     */
    synchronized String followPolicy(Path pin) {
        byte[] slot = XdpLayouts.u32(0);
        Optional<byte[]> held = policyIsolated.lookup(slot);
        if (!Files.exists(pin)) {
            if (held.isPresent()) {
                policyIsolated.delete(slot);
                return "policy's " + pin + " is gone: every published port is delivered by the fast path";
            }
            return null;
        }
        try (BpfMap isolated = BpfMap.openPinned(pin)) {
            int id = isolated.id();
            if (held.isPresent() && XdpLayouts.u32(held.get()) == id) {
                return null;
            }
            // A map of maps takes the map's descriptor and answers lookups with its id.
            policyIsolated.update(slot, XdpLayouts.u32(isolated.fd()), BpfMap.ANY);
            return "following policy's " + pin + " (map " + id + "): pods it isolates for ingress are left to the stack";
        }
    }

    void attachPublish(int ifindex) {
        attach(PUBLISH_LINK_PREFIX + ifindex, pin -> publish.attachTcx(ifindex, AttachType.TCX_INGRESS, false, pin));
    }

    void detachPublish(int ifindex) {
        release(PUBLISH_LINK_PREFIX + ifindex);
    }

    /**
     * Puts the socket hooks (connect, sendmsg, recvmsg; IPv4 and IPv6) on the cgroup v2 {@code cgroup}, whose
     * processes (and those of its descendants) are the node's own clients of published ports.
     */
    void attachSockets(Path cgroup) {
        for (String hook : SOCK_HOOKS) {
            attach(SOCK_LINK_PREFIX + hook, pin -> {
                BpfLink link = object.program("patu_sock_" + hook).attachCgroup(cgroup);
                try {
                    link.pin(pin);
                } catch (RuntimeException e) {
                    link.close();
                    throw e;
                }
                return link;
            });
        }
    }

    /** The program a pinned link of this datapath runs. */
    private BpfProgram programOf(String linkName) {
        if (linkName.startsWith(POD_LINK_PREFIX)) {
            return deliver;
        }
        if (linkName.startsWith(PUBLISH_LINK_PREFIX)) {
            return publish;
        }
        if (linkName.startsWith(HANDOFF_LINK_PREFIX)) {
            return handoff;
        }
        if (linkName.startsWith(SOCK_LINK_PREFIX)) {
            return object.program("patu_sock_" + linkName.substring(SOCK_LINK_PREFIX.length()));
        }
        return ingress;
    }

    private void attach(String name, java.util.function.Function<Path, BpfLink> create) {
        if (links.containsKey(name)) {
            return;
        }
        Path pin = pinDir.resolve(name);
        Optional<BpfLink> pinned = BpfLink.openPinned(pin);
        if (pinned.isPresent()) {
            BpfLink link = pinned.get();
            try {
                // A previous agent's link: this bundle's program replaces its own there, with no gap.
                link.updateProgram(programOf(name));
                links.put(name, link);
                return;
            } catch (NativeException e) {
                // Defunct (its device went away and an ifindex was reused) or of another program type.
                link.unpin();
                link.close();
            }
        }
        links.put(name, create.apply(pin));
    }

    /** Removes a pod's link; its veth may already be gone, which detached the program with it. */
    void detachPod(int ifindex) {
        release(POD_LINK_PREFIX + ifindex);
    }

    /** Removes the XDP program of an ingress device and the hand-off after it. */
    void detachIngress(int ifindex) {
        try {
            release(INGRESS_LINK_PREFIX + ifindex);
        } finally {
            release(HANDOFF_LINK_PREFIX + ifindex);
        }
    }


    private void release(String name) {
        BpfLink link = links.remove(name);
        if (link == null) {
            // Not ours in this run (e.g. pinned by an agent that stopped before the pod was replayed).
            link = BpfLink.openPinned(pinDir.resolve(name)).orElse(null);
            if (link == null) {
                return;
            }
        }
        // The pin and this handle are the only references: dropping both detaches the program.
        try {
            link.unpin();
        } finally {
            link.close();
        }
    }

    /**
     * What is missing of this datapath's kernel state, for its health check: a map pin, a link's pin, a link
     * no longer running this datapath's program. Cheap: no walk over a map.
     */
    java.util.List<String> problems() {
        java.util.List<String> problems = new java.util.ArrayList<>();
        for (BpfMap map : object.maps()) {
            map.pinPath().filter(pin -> !Files.exists(pin)).ifPresent(pin -> problems.add("the pin of map " + map.name()
                    + " (" + pin + ") is gone: the next agent could not take the datapath over"));
        }
        links.forEach((name, link) -> {
            if (!Files.exists(pinDir.resolve(name))) {
                problems.add("the pin of link " + name + " is gone");
            }
            int expected = programOf(name).id();
            int running = link.info().programId();
            if (running != expected) {
                problems.add("link " + name + " runs program " + running + ", not this datapath's " + expected);
            }
        });
        return problems;
    }

    /** Names of every link pinned here, this agent's or a previous one's. */
    java.util.List<String> pinnedLinks() {
        try (Stream<Path> pins = Files.list(pinDir)) {
            return pins.map(p -> p.getFileName().toString())
                    .filter(XdpKernelState::isLinkName).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes a link pinned by a previous agent for an object that no longer needs it. */
    void removeStalePin(String name) {
        release(name);
    }

    /** Removes exactly what this datapath created: every link (pods fall back to the bridge), the map pins. */
    void removeAll() {
        try {
            for (String name : pinnedLinks()) {
                try {
                    release(name);
                } catch (RuntimeException e) {
                    LOG.warning(() -> "cannot remove link " + name + ": " + e.getMessage());
                }
            }
            for (String name : java.util.List.copyOf(links.keySet())) {
                release(name);
            }
        } finally {
            for (BpfMap map : object.maps()) {
                map.unpin();
            }
            object.close();
            Bpffs.removePinDir(pinDir);
            ownership.close();
        }
    }

    /** Lets go of the objects but leaves them pinned and attached, for the next agent to take over. */
    void keepForRestart() {
        for (BpfLink link : links.values()) {
            link.close(); // a handle from its pin: closing it keeps the attachment
        }
        links.clear();
        object.close();
        ownership.close();
    }

    private static boolean hasMapPins(Path pinDir) throws IOException {
        try (Stream<Path> pins = Files.list(pinDir)) {
            return pins.anyMatch(p -> !isLinkPin(p));
        }
    }

    private static void removeMapPins(Path pinDir) throws IOException {
        try (Stream<Path> pins = Files.list(pinDir)) {
            for (Path pin : pins.filter(p -> !isLinkPin(p)).toList()) {
                Files.delete(pin);
            }
        }
    }

    private static boolean isLinkPin(Path pin) {
        return isLinkName(pin.getFileName().toString());
    }

    private static boolean isLinkName(String name) {
        return name.startsWith(POD_LINK_PREFIX) || name.startsWith(INGRESS_LINK_PREFIX) || name.startsWith(SOCK_LINK_PREFIX)
                || name.startsWith(PUBLISH_LINK_PREFIX) || name.startsWith(HANDOFF_LINK_PREFIX);
    }

    static boolean isNotSupported(NativeException e) {
        return e.errno() == Errno.ENOTSUP;
    }

    private static byte[] readObject() {
        try (InputStream in = XdpKernelState.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(OBJECT_RESOURCE + " is missing from the bundle; the build did not embed bpf/");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
