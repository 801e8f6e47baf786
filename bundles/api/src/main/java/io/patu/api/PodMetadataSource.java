package io.patu.api;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A source of pod and namespace metadata (labels, named ports) for network policy: the policy bundle's
 * directory of Kubernetes objects is one; a Kubernetes API watcher can be another. Every registered source
 * is consulted; when two describe the same pod or namespace, the one with the higher
 * {@code service.ranking} wins.
 *
 * <p>A source says its content changed by modifying its service properties (for example a new value of
 * {@link #GENERATION_PROPERTY}); consumers then read both lists again. Lists are snapshots: they never change
 * after being returned.
 */
@ConsumerType
public interface PodMetadataSource {
    /** Service property a source increases with each change of its content. */
    String GENERATION_PROPERTY = "patu.metadata.generation";

    /** Every pod the source knows, local to this node or not. */
    List<PodMetadata> pods();

    /** Every namespace the source knows. A namespace no source knows has only its name label. */
    List<NamespaceMetadata> namespaces();
}
