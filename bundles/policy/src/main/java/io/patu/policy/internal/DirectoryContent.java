package io.patu.policy.internal;

import java.util.List;

import io.patu.api.NamespaceMetadata;
import io.patu.api.PodMetadata;

/**
 * What the policy directory holds in force, all files merged, and every problem found (files that did not
 * parse, objects that were rejected, objects defined twice).
 *
 * @param files number of policy files read
 */
record DirectoryContent(List<NetworkPolicy> policies, List<NamespaceMetadata> namespaces, List<PodMetadata> pods,
                        List<Problem> problems, int files) {
    static final DirectoryContent EMPTY = new DirectoryContent(List.of(), List.of(), List.of(), List.of(), 0);

    DirectoryContent {
        policies = List.copyOf(policies);
        namespaces = List.copyOf(namespaces);
        pods = List.copyOf(pods);
        problems = List.copyOf(problems);
    }
}
