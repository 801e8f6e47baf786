package io.patu.datapath.sockmap.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.stream.Stream;

import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.AttachType;
import io.patu.kernel.bpf.BpfLink;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.BpfObject;
import io.patu.kernel.bpf.BpfProgram;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.bpf.PinDirectoryLock;

/**
 * The kernel objects of the sockmap datapath, pinned under one bpffs directory: the maps, the sockops
 * program attached to a cgroup v2 through a pinned link, and the sk_msg program attached to the
 * sockhash. Pinning lets an agent restart or a bundle update take the objects over without breaking
 * connections that are already redirected.
 */
final class SockmapKernelState {
    static final String OBJECT_RESOURCE = "/bpf/sockmap.bpf.o";
    static final String SOCKOPS_LINK = "sockops_link";
    private static final Logger LOG = Logger.getLogger(SockmapKernelState.class.getName());

    final BpfMap localPods;
    final BpfMap sockHash;
    final BpfMap stats;
    final BpfMap podStats;
    final BpfMap policy;
    private final BpfObject object;
    private final BpfProgram skMsg;
    private final BpfProgram sockops;
    private final BpfLink sockopsLink;
    private final Path pinDir;
    private final PinDirectoryLock ownership;

    private SockmapKernelState(BpfObject object, BpfLink sockopsLink, Path pinDir, PinDirectoryLock ownership) {
        this.ownership = ownership;
        this.object = object;
        this.sockopsLink = sockopsLink;
        this.pinDir = pinDir;
        this.localPods = object.map("local_pods");
        this.sockHash = object.map("sock_hash");
        this.stats = object.map("sockmap_stats");
        this.podStats = object.map("pod_stats");
        this.policy = object.map("redirect_policy");
        this.skMsg = object.program("patu_sk_msg");
        this.sockops = object.program("patu_sockops");
    }

    /** Loads the object, takes over pinned maps if there are any, and attaches both programs. */
    static SockmapKernelState attach(Path pinDir, Path cgroup) {
        PinDirectoryLock ownership = PinDirectoryLock.acquire(pinDir);
        BpfObject object;
        try {
            object = BpfObject.open(readObject(), "patu_sockmap");
        } catch (RuntimeException e) {
            ownership.close();
            throw e;
        }
        BpfLink link = null;
        try {
            Files.createDirectories(pinDir);
            object.pinMapsUnder(pinDir);
            try {
                object.load();
            } catch (NativeException e) {
                // libbpf refuses a pinned map whose type, key, value, size or flags differ from this object's:
                // the pins were left by a Patu version with another map layout. Whether that is the reason is
                // tried, not guessed from the error: the object must load on maps of its own. One that does not
                // load at all (a program the verifier refuses) leaves the pins alone, for the revision that
                // made them (an OTA rollback re-adopts them).
                if (!hasMapPins(pinDir) || !loadsOnItsOwn()) {
                    throw e;
                }
                // A changed layout: the maps are recreated, deliberately. Nobody owns the old ones (we hold the
                // directory's lock). A sockhash's entries are sockets, which user space cannot copy into another
                // map, so the connections it redirects continue on the plain path (as when the feature is
                // disabled); new connections are redirected by the new maps. The sockops link stays pinned and
                // gets the new program in place below, so no new connection misses the hook.
                LOG.warning(() -> "the maps pinned under " + pinDir + " do not match this datapath (another layout: "
                        + e.getMessage() + "): recreating them; connections they redirect continue on the plain path");
                object.close();
                removeMapPins(pinDir);
                object = BpfObject.open(readObject(), "patu_sockmap");
                object.pinMapsUnder(pinDir);
                object.load();
            }
            // The verdict program must be on the map before any socket enters it: sockets inserted
            // earlier are never redirected.
            object.program("patu_sk_msg").attachToMap(object.map("sock_hash"), AttachType.SK_MSG_VERDICT);
            BpfProgram sockops = object.program("patu_sockops");
            Path linkPin = pinDir.resolve(SOCKOPS_LINK);
            Optional<BpfLink> pinned = BpfLink.openPinned(linkPin);
            if (pinned.isPresent()) {
                // A previous agent left its link: swap the program in place, with no gap in which
                // new connections would miss the sockops hook.
                link = pinned.get();
                link.updateProgram(sockops);
            } else {
                link = sockops.attachCgroup(cgroup);
                link.pin(linkPin);
            }
            return new SockmapKernelState(object, link, pinDir, ownership);
        } catch (IOException e) {
            object.close();
            ownership.close();
            throw new UncheckedIOException("cannot create pin directory " + pinDir, e);
        } catch (RuntimeException e) {
            if (link != null) {
                link.close();
            }
            object.close();
            ownership.close();
            throw e;
        }
    }

    /**
     * What is not as {@link #attach} left it, for the feature's health check; cheap (a few system calls, no
     * map walk): every pin still there, the sockops link attached to a cgroup and running this object's
     * program, the sk_msg program attached to the sockhash, and the counters readable.
     */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        for (BpfMap map : object.maps()) {
            map.pinPath().filter(pin -> !Files.exists(pin)).ifPresent(pin -> problems.add("the pin of map " + map.name()
                    + " (" + pin + ") is gone: the next agent could not take the datapath over"));
        }
        if (!Files.exists(pinDir.resolve(SOCKOPS_LINK))) {
            problems.add("the pin of the sockops link (" + pinDir.resolve(SOCKOPS_LINK) + ") is gone");
        }
        BpfLink.Info link = sockopsLink.info();
        if (link.cgroupId() == 0) {
            problems.add("the sockops program is detached from its cgroup: no new connection enters the sockhash");
        } else if (link.programId() != sockops.id()) {
            problems.add("the sockops link runs program " + link.programId() + ", not this datapath's " + sockops.id());
        }
        List<Integer> verdicts = sockHash.attachedPrograms(AttachType.SK_MSG_VERDICT);
        if (!verdicts.contains(skMsg.id())) {
            problems.add("the sk_msg program is not attached to sock_hash (attached: " + verdicts
                    + "): no message is redirected");
        }
        if (stats.lookup(new byte[4]).isEmpty()) {
            problems.add("sockmap_stats has no entry 0: the counters cannot be read");
        }
        return problems;
    }

    /**
     * Removes exactly what {@link #attach} created: the cgroup link, the sk_msg attachment, the pins.
     * Once the last reference to the sockhash is gone, the kernel takes every socket out of it and those
     * connections continue through the plain TCP path.
     */
    void removeAll() {
        try {
            sockopsLink.detach();
            sockopsLink.unpin();
        } finally {
            sockopsLink.close();
            try {
                skMsg.detachFromMap(sockHash, AttachType.SK_MSG_VERDICT);
            } finally {
                for (BpfMap map : object.maps()) {
                    map.unpin();
                }
                object.close();
                Bpffs.removePinDir(pinDir);
                ownership.close();
            }
        }
    }

    /** Lets go of the objects but leaves them pinned and attached, for the next agent to take over. */
    void keepForRestart() {
        sockopsLink.disconnect();
        sockopsLink.close();
        object.close();
        ownership.close();
    }

    private static boolean hasMapPins(Path pinDir) throws IOException {
        try (Stream<Path> pins = Files.list(pinDir)) {
            return pins.anyMatch(pin -> !pin.getFileName().toString().equals(SOCKOPS_LINK));
        }
    }

    /** Whether this datapath's object loads on maps of its own (created here, freed again at once). */
    private static boolean loadsOnItsOwn() {
        try (BpfObject probe = BpfObject.open(readObject(), "patu_sockmap")) {
            probe.load();
            return true;
        } catch (NativeException e) {
            return false;
        }
    }

    /** Unlinks every map pin (not the sockops link's); the kernel frees what nothing else holds. */
    private static void removeMapPins(Path pinDir) throws IOException {
        try (Stream<Path> pins = Files.list(pinDir)) {
            for (Path pin : pins.toList()) {
                if (!pin.getFileName().toString().equals(SOCKOPS_LINK)) {
                    Files.delete(pin);
                }
            }
        }
    }

    private static byte[] readObject() {
        try (InputStream in = SockmapKernelState.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(OBJECT_RESOURCE + " is missing from the bundle; the build did not embed bpf/");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
