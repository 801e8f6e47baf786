package io.patu.policy.internal;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.AttachType;
import io.patu.kernel.bpf.BpfLink;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.BpfObject;
import io.patu.kernel.bpf.BpfProgram;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.netns.NetNs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The policy datapath's kernel objects, pinned under {@code <bpffsDir>/policy}: the maps (patu_policy.h),
 * the tcx links on each pod's host veth (pinned under {@code links/}, so enforcement goes on while the agent
 * restarts) and the two socket iterator links (not pinned: only a running agent revalidates sockets).
 */
final class PolicyKernelState {
    static final String OBJECT_RESOURCE = "/bpf/policy.bpf.o";
    static final String LINKS = "links";
    /** What detaching a tcx link whose device is gone returns. */
    private static final int ENOLINK = 67;
    private static final Logger LOG = Logger.getLogger(PolicyKernelState.class.getName());

    final BpfMap generation;
    final BpfMap pods;
    final BpfMap ingressRules;
    final BpfMap egressRules;
    final BpfMap nodeAddrs;
    final BpfMap flows;
    final BpfMap counters;
    final BpfMap ingressIsolated;
    private final BpfObject object;
    private final BpfProgram fromPod;
    private final BpfProgram toPod;
    private final BpfLink iterTcp;
    private final BpfLink iterUdp;
    private final Path pinDir;
    private final Path linkDir;
    /** Host veth ifindex -> its two links (from pod, to pod), attached by this instance. */
    private final Map<Integer, List<BpfLink>> hooks = new HashMap<>();

    private PolicyKernelState(BpfObject object, Path pinDir) {
        this.object = object;
        this.pinDir = pinDir;
        this.linkDir = pinDir.resolve(LINKS);
        this.generation = object.map("policy_generation");
        this.pods = object.map("policy_pods");
        this.ingressRules = object.map("ingress_rules");
        this.egressRules = object.map("egress_rules");
        this.nodeAddrs = object.map("node_addrs");
        this.flows = object.map("policy_flows");
        this.counters = object.map("policy_counters");
        this.ingressIsolated = object.map("ingress_isolated");
        this.fromPod = object.program("patu_policy_from_pod");
        this.toPod = object.program("patu_policy_to_pod");
        BpfLink tcp = object.program("patu_policy_iter_tcp").attachIterator();
        try {
            this.iterUdp = object.program("patu_policy_iter_udp").attachIterator();
        } catch (RuntimeException e) {
            tcp.close();
            throw e;
        }
        this.iterTcp = tcp;
    }

    /**
     * Loads the object, reusing the maps a previous agent left pinned (the policy in force goes on being
     * enforced, and its generation counter continues), or replacing pins of another layout.
     */
    static PolicyKernelState load(Path pinDir) {
        BpfObject object = BpfObject.open(readObject(), "patu_policy");
        try {
            Files.createDirectories(pinDir.resolve(LINKS));
            object.pinMapsUnder(pinDir);
            try {
                object.load();
            } catch (NativeException e) {
                // A pinned map of another layout (another Patu version): replace the maps. Pinned links keep
                // their old programs until attachHooks re-creates them.
                LOG.warning(() -> "pinned policy maps under " + pinDir + " do not match (" + e.getMessage()
                        + "); replacing them");
                object.close();
                removeMapPins(pinDir);
                object = BpfObject.open(readObject(), "patu_policy");
                object.pinMapsUnder(pinDir);
                object.load();
            }
            return new PolicyKernelState(object, pinDir);
        } catch (IOException e) {
            object.close();
            throw new UncheckedIOException("cannot create pin directory " + pinDir, e);
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /**
     * Puts both policy programs at the head of the tcx chains of the host veth {@code ifindex}. A link pinned
     * by an earlier agent is replaced make-before-break: the new link goes to the head first, then the old
     * one goes, so the veth is never without policy and policy is first again (docs/veth-hooks.md).
     */
    synchronized void attachHooks(int ifindex) {
        if (hooks.containsKey(ifindex)) {
            return;
        }
        BpfLink from = attach(ifindex, fromPod, AttachType.TCX_INGRESS, "from_pod");
        BpfLink to;
        try {
            to = attach(ifindex, toPod, AttachType.TCX_EGRESS, "to_pod");
        } catch (RuntimeException e) {
            drop(from);
            throw e;
        }
        hooks.put(ifindex, List.of(from, to));
    }

    private BpfLink attach(int ifindex, BpfProgram program, AttachType type, String suffix) {
        // bpffs refuses rename: each link gets a pin name of its own, and the ones before it go.
        String prefix = ifindex + "_" + suffix + "_";
        List<Path> older;
        try (Stream<Path> pins = Files.list(linkDir)) {
            older = pins.filter(pin -> pin.getFileName().toString().startsWith(prefix)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BpfLink link = program.attachTcx(ifindex, type, true, linkDir.resolve(prefix + Long.toHexString(System.nanoTime())));
        for (Path pin : older) {
            BpfLink.openPinned(pin).ifPresent(PolicyKernelState::drop);
        }
        return link;
    }

    /** Detaches and unpins a link; a link whose device is gone is defunct already, which is fine. */
    private static void drop(BpfLink link) {
        try {
            link.detach();
        } catch (NativeException e) {
            if (e.errno() != ENOLINK && e.errno() != Errno.ENOENT && e.errno() != Errno.EINVAL) {
                LOG.warning(() -> "detaching a tcx link: " + e.getMessage());
            }
        }
        try {
            link.unpin();
        } finally {
            link.close();
        }
    }

    /** Removes the policy programs from the host veth {@code ifindex} (pod deleted). */
    synchronized void detachHooks(int ifindex) {
        List<BpfLink> links = hooks.remove(ifindex);
        if (links != null) {
            links.forEach(PolicyKernelState::drop);
        }
    }

    /**
     * What is missing of this feature's kernel state, for its health check: a map pin, a veth hook's pin, a
     * hook no longer running this feature's program. Cheap: no walk over a map.
     */
    synchronized List<String> problems() {
        List<String> problems = new java.util.ArrayList<>();
        for (BpfMap map : object.maps()) {
            map.pinPath().filter(pin -> !Files.exists(pin)).ifPresent(pin -> problems.add("the pin of map " + map.name()
                    + " (" + pin + ") is gone: the next agent could not take the policy over"));
        }
        hooks.forEach((ifindex, links) -> {
            for (int i = 0; i < links.size(); i++) {
                BpfLink link = links.get(i);
                BpfProgram expected = i == 0 ? fromPod : toPod;
                if (link.pinPath().filter(Files::exists).isEmpty()) {
                    problems.add("the pin of a policy hook on ifindex " + ifindex + " is gone");
                }
                int running = link.info().programId();
                if (running != expected.id()) {
                    problems.add("the policy hook on ifindex " + ifindex + " runs program " + running
                            + ", not this feature's " + expected.id() + ": that pod is not protected");
                }
            }
        });
        return problems;
    }

    synchronized boolean hasHooks(int ifindex) {
        return hooks.containsKey(ifindex);
    }

    synchronized Set<Integer> hooked() {
        return Set.copyOf(hooks.keySet());
    }

    /**
     * Runs both socket iterators inside {@code netns}: every TCP connection and connected UDP socket there
     * whose flow the policy in force denies is destroyed (TCP: reset, both ends).
     */
    void revalidateSockets(Path netns) throws Exception {
        NetNs.callIn(netns, () -> {
            iterTcp.runIterator();
            iterUdp.runIterator();
            return null;
        });
    }

    /** Removes exactly what this feature created: every link (so the veths carry no policy), every pin. */
    synchronized void removeAll() {
        try {
            for (List<BpfLink> links : hooks.values()) {
                links.forEach(PolicyKernelState::drop);
            }
            hooks.clear();
            // Links pinned by an earlier agent for pods that no longer exist.
            removePins(linkDir);
            Bpffs.removePinDir(linkDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            iterTcp.close();
            iterUdp.close();
            for (BpfMap map : object.maps()) {
                map.unpin();
            }
            object.close();
            Bpffs.removePinDir(pinDir);
        }
    }

    /** Lets go of everything but leaves maps and links pinned: the veths stay enforced while the agent restarts. */
    synchronized void keepForRestart() {
        for (List<BpfLink> links : hooks.values()) {
            links.forEach(BpfLink::close);
        }
        hooks.clear();
        iterTcp.close();
        iterUdp.close();
        object.close();
    }

    private static void removePins(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> pins = Files.list(dir)) {
            for (Path pin : pins.toList()) {
                Files.delete(pin);
            }
        }
    }

    private static void removeMapPins(Path pinDir) throws IOException {
        try (Stream<Path> pins = Files.list(pinDir)) {
            for (Path pin : pins.toList()) {
                if (!pin.getFileName().toString().equals(LINKS)) {
                    Files.delete(pin);
                }
            }
        }
    }

    private static byte[] readObject() {
        try (InputStream in = PolicyKernelState.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(OBJECT_RESOURCE + " is missing from the bundle; the build did not embed bpf/");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
