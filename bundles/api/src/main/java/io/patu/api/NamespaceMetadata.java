package io.patu.api;

import java.util.Map;
import java.util.Objects;

/**
 * A namespace and its labels. Consumers add {@code kubernetes.io/metadata.name} themselves, as the
 * Kubernetes API server does for every namespace.
 *
 * @param name   the namespace's name
 * @param labels its labels
 */
public record NamespaceMetadata(String name, Map<String, String> labels) {
    public NamespaceMetadata {
        Objects.requireNonNull(name, "name");
        labels = Map.copyOf(labels);
    }
}
