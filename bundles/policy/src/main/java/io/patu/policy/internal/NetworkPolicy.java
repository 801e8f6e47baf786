package io.patu.policy.internal;

import java.util.List;

/**
 * A validated {@code networking.k8s.io/v1} NetworkPolicy.
 *
 * @param file       the policy file it came from (for messages)
 * @param affectsIngress policyTypes holds Ingress (given, or implied as Kubernetes defaults it)
 * @param affectsEgress  policyTypes holds Egress (given, or implied by egress rules)
 */
record NetworkPolicy(String file, String namespace, String name, Selector podSelector, boolean affectsIngress,
                     boolean affectsEgress, List<PolicyRule> ingress, List<PolicyRule> egress) {
    NetworkPolicy {
        ingress = List.copyOf(ingress);
        egress = List.copyOf(egress);
    }

    String qualifiedName() {
        return namespace + "/" + name;
    }

    String types() {
        return affectsIngress && affectsEgress ? "Ingress,Egress" : affectsIngress ? "Ingress" : affectsEgress ? "Egress" : "";
    }
}
