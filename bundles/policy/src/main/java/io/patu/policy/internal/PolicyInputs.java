package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.patu.api.NamespaceMetadata;
import io.patu.api.Pod;
import io.patu.api.PodIdentity;
import io.patu.api.PodMetadata;

/**
 * Everything a compilation reads, frozen: the policies in force, the namespaces' labels, and the local pods
 * joined with their metadata.
 */
record PolicyInputs(List<NetworkPolicy> policies, Map<String, Map<String, String>> namespaceLabels, List<LocalPod> pods,
                    Map<InetAddress, LocalPod> byAddress) {
    static final String NAME_LABEL = "kubernetes.io/metadata.name";

    PolicyInputs {
        policies = List.copyOf(policies);
        namespaceLabels = Map.copyOf(namespaceLabels);
        pods = List.copyOf(pods);
        byAddress = Map.copyOf(byAddress);
    }

    PolicyInputs(List<NetworkPolicy> policies, Map<String, Map<String, String>> namespaceLabels, List<LocalPod> pods) {
        this(policies, namespaceLabels, pods, index(pods));
    }

    private static Map<InetAddress, LocalPod> index(List<LocalPod> pods) {
        Map<InetAddress, LocalPod> byAddress = new HashMap<>();
        pods.forEach(pod -> pod.addresses().forEach(a -> byAddress.putIfAbsent(a, pod)));
        return byAddress;
    }

    /**
     * Joins local pods to metadata by namespace and name, and gives every namespace its
     * {@code kubernetes.io/metadata.name} label, as the API server does.
     */
    static PolicyInputs of(List<NetworkPolicy> policies, List<NamespaceMetadata> namespaces, List<PodMetadata> metadata,
                           List<Pod> localPods) {
        Map<String, Map<String, String>> labels = new HashMap<>();
        for (NamespaceMetadata namespace : namespaces) {
            labels.putIfAbsent(namespace.name(), withName(namespace.name(), namespace.labels()));
        }
        Map<String, PodMetadata> byName = new HashMap<>();
        for (PodMetadata pod : metadata) {
            byName.putIfAbsent(pod.namespace() + "/" + pod.name(), pod);
        }
        List<LocalPod> pods = localPods.stream().map(pod -> {
            PodIdentity identity = pod.identity();
            String namespace = identity.effectiveNamespace();
            PodMetadata found = identity.named() ? byName.get(namespace + "/" + identity.name()) : null;
            return found == null ? new LocalPod(pod, namespace, identity.name(), Map.of(), List.of(), false)
                    : new LocalPod(pod, namespace, identity.name(), found.labels(), found.namedPorts(), true);
        }).toList();
        for (LocalPod pod : pods) {
            labels.computeIfAbsent(pod.namespace(), name -> withName(name, Map.of()));
        }
        for (NetworkPolicy policy : policies) {
            labels.computeIfAbsent(policy.namespace(), name -> withName(name, Map.of()));
        }
        return new PolicyInputs(policies, labels, pods);
    }

    private static Map<String, String> withName(String namespace, Map<String, String> labels) {
        Map<String, String> out = new LinkedHashMap<>(labels);
        out.put(NAME_LABEL, namespace);
        return out;
    }

    Map<String, String> labelsOf(String namespace) {
        Map<String, String> found = namespaceLabels.get(namespace);
        return found != null ? found : Map.of(NAME_LABEL, namespace);
    }

    Optional<LocalPod> podAt(InetAddress address) {
        return Optional.ofNullable(byAddress.get(address));
    }

    /** Whether {@code policy} applies to {@code pod}: same namespace, podSelector matches. */
    static boolean selects(NetworkPolicy policy, LocalPod pod) {
        return policy.namespace().equals(pod.namespace()) && policy.podSelector().matches(pod.labels());
    }

    /** Whether a selector peer of {@code policy} covers {@code pod}. */
    boolean peerSelects(NetworkPolicy policy, Peer peer, LocalPod pod) {
        if (peer.isIpBlock()) {
            return false;
        }
        if (peer.namespaceSelector() == null) {
            return pod.namespace().equals(policy.namespace()) && peer.podSelector().matches(pod.labels());
        }
        return peer.namespaceSelector().matches(labelsOf(pod.namespace()))
                && (peer.podSelector() == null || peer.podSelector().matches(pod.labels()));
    }
}
