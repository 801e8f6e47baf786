package io.patu.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an orchestrator knows about a pod that network policy needs: where it is, its labels and its named
 * ports. Matched to a local pod by namespace and name ({@link PodIdentity}).
 *
 * @param namespace  the pod's namespace
 * @param name       the pod's name
 * @param labels     the pod's labels
 * @param namedPorts the named ports of its containers
 */
public record PodMetadata(String namespace, String name, Map<String, String> labels, List<NamedPort> namedPorts) {
    public PodMetadata {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        labels = Map.copyOf(labels);
        namedPorts = List.copyOf(namedPorts);
    }
}
