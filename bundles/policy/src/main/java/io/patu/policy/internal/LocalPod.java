package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

import io.patu.api.NamedPort;
import io.patu.api.Pod;

/**
 * A pod on this node as policy sees it: its lifecycle record joined with its metadata. A pod whose runtime
 * gave no name, or whose name no metadata source knows, has no labels and no named ports; without a
 * namespace it is in {@code default}.
 */
record LocalPod(Pod pod, String namespace, String name, Map<String, String> labels, List<NamedPort> namedPorts,
                boolean hasMetadata, List<InetAddress> addresses) {
    LocalPod {
        labels = Map.copyOf(labels);
        namedPorts = List.copyOf(namedPorts);
        addresses = List.copyOf(addresses);
    }

    LocalPod(Pod pod, String namespace, String name, Map<String, String> labels, List<NamedPort> namedPorts, boolean hasMetadata) {
        this(pod, namespace, name, labels, namedPorts, hasMetadata, pod.addresses().stream().map(a -> a.address()).toList());
    }

    /** {@code namespace/name}, or {@code namespace/<container id>} for a pod the runtime did not name. */
    String displayName() {
        return namespace + "/" + (name.isEmpty() ? pod.id().containerId() : name);
    }

    /** The ports a named port means on this pod, for one protocol. */
    List<Integer> resolve(String portName, int protocol) {
        String protocolName = PolicyPort.protocolName(protocol);
        return namedPorts.stream().filter(p -> p.name().equals(portName) && p.protocol().equals(protocolName))
                .map(NamedPort::port).distinct().toList();
    }

    boolean has(InetAddress address) {
        return addresses().contains(address);
    }
}
