package io.patu.api;

import java.util.Objects;

/**
 * Who a pod is for an orchestrator, as the runtime said in {@code CNI_ARGS}: the conventional keys
 * {@code K8S_POD_NAMESPACE}, {@code K8S_POD_NAME}, {@code K8S_POD_UID} and {@code K8S_POD_INFRA_CONTAINER_ID}
 * (kubelet, containerd and CRI-O send all four; podman 4.3 sends only {@code K8S_POD_NAME}, the container's
 * name). A key the runtime did not send is the empty string. Policy matches a pod to its metadata (labels,
 * named ports) by namespace and name; an absent namespace means {@code default}.
 *
 * @param namespace        {@code K8S_POD_NAMESPACE}, or empty
 * @param name             {@code K8S_POD_NAME}, or empty
 * @param uid              {@code K8S_POD_UID}, or empty
 * @param infraContainerId {@code K8S_POD_INFRA_CONTAINER_ID}, or empty
 */
public record PodIdentity(String namespace, String name, String uid, String infraContainerId) {
    /** A pod the runtime said nothing about. */
    public static final PodIdentity NONE = new PodIdentity("", "", "", "");
    /** The namespace of a pod whose runtime gave none, as in Kubernetes. */
    public static final String DEFAULT_NAMESPACE = "default";

    public PodIdentity {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uid, "uid");
        Objects.requireNonNull(infraContainerId, "infraContainerId");
    }

    /** The namespace the pod is in: the one given, or {@link #DEFAULT_NAMESPACE}. */
    public String effectiveNamespace() {
        return namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace;
    }

    /** Whether the runtime named the pod, so that metadata can be found for it. */
    public boolean named() {
        return !name.isEmpty();
    }
}
