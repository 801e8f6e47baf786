package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodIdentity;

/** Pods as the lifecycle hands them over, with made-up addresses and ifindexes. */
final class TestPods {
    private TestPods() {
    }

    /** The conformance world's pod {@code ns/name}: 10.9.N.P, ns x=1, y=2, z=3, pod a=1, b=2, c=3; ifindex 100 + 10N + P. */
    static Pod world(String qualified) {
        int ns = qualified.charAt(0) - 'x' + 1;
        int pod = qualified.charAt(2) - 'a' + 1;
        return pod(qualified.replace('/', '-'), 100 + 10 * ns + pod, "10.9." + ns + "." + pod,
                new PodIdentity(qualified.substring(0, 1), qualified.substring(2), "", ""));
    }

    static InetAddress address(String qualified) {
        return world(qualified).addresses().getFirst().address();
    }

    static Pod pod(String container, int ifIndex, String address, PodIdentity identity) {
        InetAddress a = InetAddress.ofLiteral(address);
        InetAddress gateway = InetAddress.ofLiteral(a.getAddress().length == 4 ? "10.9.0.1" : "fd00::1");
        return new Pod(new PodId(container, "eth0"), "/run/netns/" + container, "vpp" + ifIndex, ifIndex, "02:00:00:00:00:01",
                List.of(new PodAddress(a, a.getAddress().length == 4 ? 16 : 64, gateway, List.of())), identity);
    }

    /**
     * What the kernel would decide with this compiled policy: the source's egress entries looked up for the
     * destination's address, the destination's ingress entries for the source's, each by longest prefix.
     */
    static boolean lpmAllows(CompiledPolicy compiled, Pod source, Pod destination, int protocol, int port) {
        InetAddress from = source.addresses().getFirst().address();
        InetAddress to = destination.addresses().getFirst().address();
        PodRules egress = compiled.pods().get(source.hostIfIndex());
        PodRules ingress = compiled.pods().get(destination.hostIfIndex());
        return (egress == null || !egress.egressIsolated() || lookup(egress.egress(), to, protocol, port))
                && (ingress == null || !ingress.ingressIsolated() || lookup(ingress.ingress(), from, protocol, port));
    }

    static boolean lookup(List<PeerRule> entries, InetAddress peer, int protocol, int port) {
        Optional<PeerRule> best = entries.stream()
                .filter(e -> new Cidr(e.prefix(), e.prefixLength()).contains(peer))
                .max((a, b) -> Integer.compare(a.prefixLength(), b.prefixLength()));
        return best.isPresent() && best.get().ports().stream().anyMatch(r -> r.protocol() == PortRange.ANY_PROTOCOL
                || r.protocol() == protocol && port >= r.first() && port <= r.last());
    }
}
