package io.patu.policy.internal;

/**
 * Where the engine hands each new {@link CompiledPolicy} to the kernel (see /work/wt/policy-boundary.md).
 * Implemented by {@link PolicyDatapath}; called by the engine, one call at a time.
 */
interface PolicyKernel {
    /** Enforces {@code next} as a whole new generation; returns once it is in the kernel, throws if it could not be. */
    void apply(CompiledPolicy next);
}
