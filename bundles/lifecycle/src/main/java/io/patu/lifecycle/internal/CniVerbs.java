package io.patu.lifecycle.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.Egress;
import io.patu.api.IpAllocator;
import io.patu.api.IpamRequest;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.api.PortMapping;
import io.patu.kernel.NativeException;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/**
 * Carries out CNI verbs: validates, wires the plain path, records the pod, and tells the pod listeners.
 * Callers serialise invocations (one thread), so the kernel, the registry and the listeners always see
 * one consistent sequence of changes.
 */
final class CniVerbs {
    private static final Logger LOG = Logger.getLogger(CniVerbs.class.getName());
    /** Patu's own code for kernel operations that failed (the spec leaves 100+ to plugins). */
    static final int KERNEL_FAILURE = CniError.KERNEL_FAILURE;

    private final PodPlumbing plumbing;
    private final PodRegistry registry;
    private final Supplier<IpAllocator> ipam;
    private final Supplier<List<PodListener>> listeners;
    private final NetconfKeys netconfKeys;
    private final StartGate gate;

    /**
     * What of the profile's features is still starting ({@link FeatureStartGate}), one line each; empty when
     * every feature has started. Answers at once (the wait happens before the call reaches the verbs).
     */
    interface StartGate {
        StartGate OPEN = List::of;

        List<String> starting();
    }

    CniVerbs(PodPlumbing plumbing, PodRegistry registry, Supplier<IpAllocator> ipam,
             Supplier<List<PodListener>> listeners) {
        this(plumbing, registry, ipam, listeners, () -> null);
    }

    CniVerbs(PodPlumbing plumbing, PodRegistry registry, Supplier<IpAllocator> ipam,
             Supplier<List<PodListener>> listeners, Supplier<Egress> egress) {
        this(plumbing, registry, ipam, listeners, egress, StartGate.OPEN);
    }

    CniVerbs(PodPlumbing plumbing, PodRegistry registry, Supplier<IpAllocator> ipam,
             Supplier<List<PodListener>> listeners, Supplier<Egress> egress, StartGate gate) {
        this.plumbing = plumbing;
        this.registry = registry;
        this.ipam = ipam;
        this.listeners = listeners;
        this.netconfKeys = new NetconfKeys(plumbing.bridgeName(), egress);
        this.gate = gate;
    }

    /** The answer to a request the socket server refused before it was complete. */
    static WireResponse rejected(RuntimeException e) {
        if (e instanceof PatuException p) {
            return failure(NetworkConfig.DEFAULT_VERSION, p.code(), p.getMessage(), p.details());
        }
        return failure(NetworkConfig.DEFAULT_VERSION, CniError.DECODE_FAILURE, "malformed request: " + e.getMessage(), null);
    }

    /** Answers one call of the CNI executable; never throws. */
    WireResponse handle(byte[] requestBytes) {
        String answerVersion = NetworkConfig.DEFAULT_VERSION;
        try {
            WireRequest wire = WireRequest.decode(requestBytes);
            answerVersion = NetworkConfig.errorVersion(wire.stdin());
            CniRequest request = CniRequest.from(wire);
            answerVersion = request.config().answerVersion();
            return switch (request.command()) {
                case VERSION -> WireResponse.success(CniResults.versionResult(answerVersion));
                case ADD -> add(request);
                case DEL -> del(request);
                case CHECK -> check(request);
                case STATUS -> status();
                case GC -> gc(request);
            };
        } catch (PatuException e) {
            return failure(answerVersion, e.code(), e.getMessage(), e.details());
        } catch (NativeException e) {
            LOG.log(Level.WARNING, "kernel operation failed", e);
            return failure(answerVersion, KERNEL_FAILURE, "a kernel operation failed: " + e.getMessage(), null);
        } catch (RuntimeException | IOException e) {
            LOG.log(Level.SEVERE, "unexpected failure handling a CNI call", e);
            return failure(answerVersion, CniError.IO_FAILURE, "the agent failed: " + e, null);
        }
    }

    private WireResponse add(CniRequest request) throws IOException {
        netconfKeys.check(request.config());
        int attachmentMtu = request.config().mtu();
        List<PortMapping> portMappings = request.config().portMappings();
        if (!portMappings.isEmpty() && listeners.get().stream().noneMatch(PodListener::servesPortMappings)) {
            // Refused rather than warned: a container whose published ports nobody serves looks up and is not.
            throw new PatuException(CniError.NOT_AVAILABLE, "ports are to be published (" + portMappings
                    + ") but the xdp feature, which publishes them, is not running",
                    "patu:enable xdp (or use the full profile), or chain the portmap plugin after Patu and declare the "
                            + "portMappings capability there instead", null);
        }
        Path netns = request.netns().orElseThrow();
        if (!NetNs.isNetworkNamespace(netns)) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "CNI_NETNS " + CniRequest.printable(netns.toString())
                    + " is not a network namespace");
        }
        awaitFeatures();
        IpAllocator allocator = ipam.get();
        if (allocator == null) {
            throw new PatuException(CniError.NOT_AVAILABLE, "the ipam feature is not running, so no address can be given",
                    "start the ipam bundle (or use a profile that has it)", null);
        }
        PodId id = request.podId();
        Optional<Pod> previous = registry.get(id);
        if (previous.isPresent()) {
            // A repeated ADD rebuilds the attachment from scratch, keeping its lease.
            notifyRemoved(previous.get());
        }
        boolean hadLease = allocator.lease(id).isPresent();
        List<PodAddress> addresses = allocator.allocate(id,
                new IpamRequest(request.config().ipamJson(), request.config().requestedIps()));
        PodPlumbing.Wired wired;
        try {
            wired = plumbing.wire(id, netns, addresses, attachmentMtu);
        } catch (RuntimeException e) {
            if (!hadLease) {
                allocator.release(id);
            }
            throw e;
        }
        Pod pod = wired.pod().withIdentity(request.args().identity()).withPortMappings(portMappings);
        try {
            registry.put(pod);
            for (PodListener listener : listeners.get()) {
                listener.podAdded(pod);
            }
        } catch (RuntimeException | IOException e) {
            notifyRemoved(pod);
            registry.remove(id);
            plumbing.unwire(id);
            if (!hadLease) {
                allocator.release(id);
            }
            throw e;
        }
        return WireResponse.success(CniResults.addResult(request.config().cniVersion(), wired));
    }

    /** DEL must succeed whatever is left, so each step runs even if an earlier one found nothing. */
    private WireResponse del(CniRequest request) throws IOException {
        PodId id = request.podId();
        registry.get(id).ifPresent(this::notifyRemoved);
        plumbing.unwire(id);
        IpAllocator allocator = ipam.get();
        if (allocator != null) {
            allocator.release(id);
        } else if (registry.get(id).isPresent()) {
            throw new PatuException(CniError.NOT_AVAILABLE, "the ipam feature is not running, so the address of "
                    + id + " cannot be released", "start the ipam bundle and retry DEL", null);
        }
        registry.remove(id);
        return WireResponse.success(new byte[0]);
    }

    private WireResponse check(CniRequest request) {
        request.config().mtu(); // validated as in ADD
        Pod pod = registry.get(request.podId()).orElseThrow(() -> new PatuException(CniError.UNKNOWN_CONTAINER,
                "no pod " + request.podId() + " is known to this agent"));
        netconfKeys.check(request.config());
        if (!pod.netns().equals(request.netns().orElseThrow().toString())) {
            throw new PatuException(CniError.UNKNOWN_CONTAINER, "pod " + pod.id() + " lives in " + pod.netns()
                    + ", not in " + CniRequest.printable(request.netns().get().toString()));
        }
        String problem = plumbing.verify(pod);
        if (problem != null) {
            throw new PatuException(KERNEL_FAILURE, "pod " + pod.id() + " is not as it was set up: " + problem);
        }
        JsonNode prevResult = request.config().prevResult();
        if (prevResult != null) {
            PrevResultCheck.check(prevResult, pod, request.config().ipsCarryVersion(), PrevResultCheck.Observed.read(pod));
        }
        return WireResponse.success(new byte[0]);
    }

    /**
     * GC (spec 1.1.0): removes every attachment of this agent that the runtime does not list as valid: its
     * pod (the listeners hear podRemoved, then the veth goes and the lease is released), leases that have no
     * pod, and veths on the bridge that belong to no valid attachment. Keeps going past failures and reports
     * the first one at the end.
     */
    private WireResponse gc(CniRequest request) throws IOException {
        Set<PodId> valid = GcRequest.validAttachments(request.config());
        IpAllocator allocator = ipam.get();
        List<RuntimeException> failures = new ArrayList<>();
        Set<String> keptVeths = new HashSet<>();
        valid.forEach(id -> keptVeths.add(HostVethNames.of(id)));
        for (Pod pod : registry.all()) {
            if (valid.contains(pod.id())) {
                continue;
            }
            LOG.info(() -> "GC: removing " + pod.id() + ", which the runtime no longer lists");
            notifyRemoved(pod);
            attempt(failures, () -> plumbing.unwire(pod.id()));
            if (allocator == null) {
                failures.add(new PatuException(CniError.NOT_AVAILABLE, "the ipam feature is not running, so the address of "
                        + pod.id() + " cannot be released", "start the ipam bundle and retry GC", null));
                continue;
            }
            attempt(failures, () -> allocator.release(pod.id()));
            attempt(failures, () -> {
                try {
                    registry.remove(pod.id());
                } catch (IOException e) {
                    throw new PatuException(CniError.IO_FAILURE, "the pod registry cannot be written: " + e.getMessage());
                }
            });
        }
        if (allocator != null) {
            for (IpAllocator.Lease lease : allocator.leases()) {
                if (!valid.contains(lease.id()) && registry.get(lease.id()).isEmpty()) {
                    LOG.info(() -> "GC: releasing the lease of " + lease.id() + ", which has no pod");
                    attempt(failures, () -> allocator.release(lease.id()));
                }
            }
        }
        registry.all().forEach(pod -> keptVeths.add(pod.hostVeth()));
        attempt(failures, () -> removeStrayVeths(keptVeths));
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        return WireResponse.success(new byte[0]);
    }

    /** Host veths on the bridge, named as Patu names them, that belong to no kept attachment. */
    private void removeStrayVeths(Set<String> kept) {
        try (RtNetlink host = RtNetlink.open()) {
            Optional<Link> bridge = host.link(plumbing.bridgeName());
            if (bridge.isEmpty()) {
                return;
            }
            for (Link link : host.links()) {
                if (link.masterIndex() == bridge.get().index() && "veth".equals(link.kind())
                        && HostVethNames.looksLikeOne(link.name()) && !kept.contains(link.name())) {
                    LOG.info(() -> "GC: removing host veth " + link.name() + ", which belongs to no valid attachment");
                    host.deleteLink(link.name());
                }
            }
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (NativeException e) {
            LOG.log(Level.WARNING, "GC step failed", e);
            failures.add(new PatuException(KERNEL_FAILURE, "a kernel operation failed: " + e.getMessage()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "GC step failed", e);
            failures.add(e);
        }
    }

    /**
     * Before anything of an ADD happens: every feature of the profile must have started (a pod added while,
     * say, policy starts would run unisolated). The ADD waited a bounded time for that before it got here;
     * if one is still starting, it is refused with "try again later".
     */
    private void awaitFeatures() {
        List<String> starting = gate.starting();
        if (!starting.isEmpty()) {
            throw new PatuException(CniError.TRY_AGAIN, "the agent's features are still starting, so the pod would not get"
                    + " all of them (" + String.join("; ", starting) + "); nothing was changed, try again later",
                    "patu:health shows what each feature waits for; a feature that should not run: patu:disable NAME", null);
        }
    }

    /**
     * STATUS succeeds only when an ADD could: every feature started, the ipam feature runs and its pool has a
     * free address.
     */
    private WireResponse status() {
        List<String> starting = gate.starting();
        if (!starting.isEmpty()) {
            throw new PatuException(CniError.NOT_AVAILABLE, "the agent's features are still starting ("
                    + String.join("; ", starting) + "): an ADD now would wait for them",
                    "patu:health shows what each feature waits for", null);
        }
        IpAllocator allocator = ipam.get();
        if (allocator == null) {
            throw new PatuException(CniError.NOT_AVAILABLE, "the ipam feature is not running, so no pod can be added",
                    "patu:enable ipam (or use a profile that has it)", null);
        }
        if (allocator.freeAddresses() == 0) {
            throw new PatuException(CniError.NOT_AVAILABLE, "the pod address pool is exhausted (" + allocator.leases().size()
                    + " leases held)", "release pods or configure a larger subnet in " + IpAllocator.PID, null);
        }
        return WireResponse.success(new byte[0]);
    }

    private void notifyRemoved(Pod pod) {
        for (PodListener listener : listeners.get()) {
            try {
                listener.podRemoved(pod);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "pod listener " + listener + " failed to remove " + pod.id(), e);
            }
        }
    }

    private static WireResponse failure(String version, int code, String message, String details) {
        return new WireResponse(1, CniResults.error(version, code, message, details));
    }
}
