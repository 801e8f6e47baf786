package io.patu.policy.internal;

import java.util.List;

import io.patu.api.NamespaceMetadata;
import io.patu.api.PodMetadata;

/**
 * The valid objects of one policy file, and the problems of the invalid ones.
 *
 * @param rejected identities ({@code Kind namespace/name}) of named objects that were invalid: the previous
 *                 version of each, if the file had one, stays in force
 */
record FileContent(List<NetworkPolicy> policies, List<NamespaceMetadata> namespaces, List<PodMetadata> pods,
                   List<Problem> problems, List<String> rejected) {
    static final FileContent EMPTY = new FileContent(List.of(), List.of(), List.of(), List.of(), List.of());

    FileContent {
        policies = List.copyOf(policies);
        namespaces = List.copyOf(namespaces);
        pods = List.copyOf(pods);
        problems = List.copyOf(problems);
        rejected = List.copyOf(rejected);
    }

    static String identity(String kind, String namespace, String name) {
        return namespace == null ? kind + " " + name : kind + " " + namespace + "/" + name;
    }
}
