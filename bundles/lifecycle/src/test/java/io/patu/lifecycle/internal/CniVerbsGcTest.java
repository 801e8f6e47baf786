package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.json.JsonTrees;
import io.patu.api.IpAllocator;
import io.patu.api.IpamRequest;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;

/**
 * GC (spec 1.1.0) with the real rtnetlink but fake ipam and listeners: what the runtime lists stays, every
 * other pod, lease and Patu veth on the bridge goes, and one failing step does not stop the others.
 */
@KernelTest
class CniVerbsGcTest {
    @TempDir
    Path state;
    private final String bridge = "ptgc" + TestNames.unique("", 6);
    private final FakeIpam ipam = new FakeIpam();
    private final List<String> removedByListener = new ArrayList<>();
    private PodRegistry registry;
    private CniVerbs verbs;

    /** Leases in memory; release of the attachments in {@code failOn} throws. */
    static final class FakeIpam implements IpAllocator {
        final Map<PodId, Lease> leases = new LinkedHashMap<>();
        final List<PodId> failOn = new ArrayList<>();
        int next = 2;

        @Override
        public List<PodAddress> allocate(PodId id, IpamRequest request) {
            return leases.computeIfAbsent(id, i -> new Lease(i, List.of(new PodAddress(
                    InetAddress.ofLiteral("10.99.0." + next++), 24, InetAddress.ofLiteral("10.99.0.1"))))).addresses();
        }

        @Override
        public boolean release(PodId id) {
            if (failOn.contains(id)) {
                throw new PatuException(5, "lease store of " + id + " is broken");
            }
            return leases.remove(id) != null;
        }

        @Override
        public Optional<Lease> lease(PodId id) {
            return Optional.ofNullable(leases.get(id));
        }

        @Override
        public long freeAddresses() {
            return 100;
        }

        @Override
        public List<Lease> leases() {
            return List.copyOf(leases.values());
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        registry = new PodRegistry(state);
        PodListener listener = new PodListener() {
            @Override
            public void podAdded(Pod pod) {
            }

            @Override
            public void podRemoved(Pod pod) {
                removedByListener.add(pod.id().toString());
            }
        };
        verbs = new CniVerbs(new PodPlumbing(bridge, 1500, new UplinkMtu(0)), registry, () -> ipam, () -> List.of(listener));
        try (RtNetlink host = RtNetlink.open()) {
            host.createBridge(bridge);
        }
    }

    @AfterEach
    void removeBridgeAndVeths() {
        try (RtNetlink host = RtNetlink.open()) {
            for (String c : List.of("valid", "gone", "broken", "stray")) {
                host.deleteLink(HostVethNames.of(new PodId(c, "eth0")));
            }
            host.deleteLink(bridge);
        }
    }

    private Pod registered(String containerId) throws Exception {
        PodId id = new PodId(containerId, "eth0");
        Pod pod = new Pod(id, "/run/netns/none", HostVethNames.of(id), 0, "0a:00:00:00:00:09",
                ipam.allocate(id, IpamRequest.DEFAULTS));
        registry.put(pod);
        return pod;
    }

    /** A veth named as Patu names host veths, on the test bridge (the peer stays in the host namespace). */
    private void vethOnBridge(String containerId) {
        String name = HostVethNames.of(new PodId(containerId, "eth0"));
        try (RtNetlink host = RtNetlink.open()) {
            host.createVethPair(name, "ptp" + name.substring(4), Path.of("/proc/self/ns/net"));
            host.setMaster(name, bridge);
        }
    }

    private static boolean linkExists(String containerId) {
        try (RtNetlink host = RtNetlink.open()) {
            return host.link(HostVethNames.of(new PodId(containerId, "eth0"))).isPresent();
        }
    }

    private WireResponse gc(String validJson) {
        return verbs.handle(CniVerbsInputTest.frame(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/usr/lib/cni"),
                "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"patu\",\"cni.dev/valid-attachments\":" + validJson + "}"));
    }

    @Test
    void removesEverythingTheRuntimeDoesNotList() throws Exception {
        registered("valid");
        registered("gone");
        ipam.allocate(new PodId("orphan", "eth0"), IpamRequest.DEFAULTS);
        ipam.allocate(new PodId("reserved", "eth0"), IpamRequest.DEFAULTS);
        vethOnBridge("valid");
        vethOnBridge("gone");
        vethOnBridge("stray");

        WireResponse response = gc("[{\"containerID\":\"valid\",\"ifname\":\"eth0\"},"
                + "{\"containerID\":\"reserved\",\"ifname\":\"eth0\"}]");

        assertEquals(0, response.exitStatus(), new String(response.stdout()));
        assertEquals(0, response.stdout().length, "GC prints nothing on success");
        assertEquals(List.of("valid/eth0"), registry.all().stream().map(p -> p.id().toString()).toList());
        assertEquals(List.of("gone/eth0"), removedByListener);
        assertEquals(Set.of(new PodId("valid", "eth0"), new PodId("reserved", "eth0")), ipam.leases.keySet(),
                "the lease of the removed pod and the orphan lease are released; listed ones stay");
        assertTrue(linkExists("valid"), "the listed attachment's veth stays");
        assertTrue(!linkExists("gone") && !linkExists("stray"), "the others' veths are gone");

        // Nothing left to collect: a second GC succeeds and changes nothing.
        assertEquals(0, gc("[{\"containerID\":\"valid\",\"ifname\":\"eth0\"}]").exitStatus());
        assertEquals(1, registry.all().size());
    }

    @Test
    void keepsGoingPastAFailureAndReportsTheFirst() throws Exception {
        registered("broken");
        registered("gone");
        vethOnBridge("broken");
        ipam.failOn.add(new PodId("broken", "eth0"));

        WireResponse response = gc("[]");

        assertEquals(1, response.exitStatus());
        JsonNode error = JsonTrees.read(response.stdout());
        assertEquals(5, error.get("code").asInt(), error.toString());
        assertTrue(error.get("msg").asText().contains("broken/eth0"), error.toString());
        assertEquals("1.1.0", error.get("cniVersion").asText());
        // The failing attachment's other steps and the next attachment were still done.
        assertTrue(!linkExists("broken"), "veth of the failing attachment removed");
        assertEquals(List.of("broken/eth0", "gone/eth0"), removedByListener);
        assertEquals(Set.of(new PodId("broken", "eth0")), ipam.leases.keySet());
        assertEquals(List.of(), registry.all(), "both pods are unregistered; the lease left is an orphan now");

        // The next GC retries it as a lease without a pod.
        ipam.failOn.clear();
        assertEquals(0, gc("[]").exitStatus());
        assertEquals(List.of(), registry.all());
        assertEquals(Map.of(), ipam.leases);
    }

    @Test
    void ipv6IsWrittenCompressed() {
        assertEquals("fd00::5", IpText.of(InetAddress.ofLiteral("fd00:0:0:0:0:0:0:5")));
        assertEquals("::", IpText.of(InetAddress.ofLiteral("::")));
        assertEquals("2001:db8::1:0:0:1", IpText.of(InetAddress.ofLiteral("2001:db8:0:0:1:0:0:1")));
        assertEquals("2001:db8:0:1:1:1:1:1", IpText.of(InetAddress.ofLiteral("2001:db8:0:1:1:1:1:1")));
        assertEquals("fe80::1:2", IpText.of(InetAddress.ofLiteral("fe80::1:2")));
        assertEquals("10.0.0.1", IpText.of(InetAddress.ofLiteral("10.0.0.1")));
    }
}
