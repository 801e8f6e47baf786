package io.patu.policy.internal;

/**
 * Where compiled policy goes: implemented by the policy datapath (maps and tcx programs), called by
 * {@link PolicyAgent}. Registered as a DS service inside this bundle; the agent binds it dynamically and
 * hands it the policy in force at once, then every new generation.
 *
 * <p>Calls are serialised: never two at a time. {@code apply} returns once {@code next} is enforced in the
 * kernel; on pod ADD it runs before the CNI call is answered, so a new pod is never reachable before its
 * rules are in place.
 */
interface PolicyKernel {
    /**
     * Enforce {@code next} instead of whatever was enforced before (a whole new generation: every local
     * pod, selected or not).
     *
     * @throws RuntimeException when it could not be enforced; the agent logs it (and fails a pod's ADD)
     */
    void apply(CompiledPolicy next);

    /**
     * Wall-clock time (epoch microseconds) at which the last {@link #apply} put its policy in force (the
     * generation switch), or 0 when unknown: what a policy change's timing is measured to.
     */
    default long inForceAtMicros() {
        return 0;
    }
}
