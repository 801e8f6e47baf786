package io.patu.policy.internal;

import java.util.Map;

/**
 * What the kernel must enforce, computed from the policies, namespaces and pods in force: the boundary
 * between the policy engine (Kubernetes semantics, in Java) and the policy datapath (maps and tcx
 * programs). The engine produces a whole new value on every change; the datapath writes it as a new
 * generation before it retires the old one, so no connection is decided by a mix of the two.
 *
 * @param generation increases with every value the engine produces
 * @param pods       rules of every local pod, keyed by the ifindex of its host-side veth; a pod absent here
 *                   is selected by no policy and isolated in neither direction
 */
record CompiledPolicy(long generation, Map<Integer, PodRules> pods) {
    CompiledPolicy {
        pods = Map.copyOf(pods);
    }
}
