package io.patu.policy.internal;

import java.util.concurrent.atomic.AtomicReference;

/** A policy kernel that keeps what it was last given, and when. */
final class RecordingKernel implements PolicyKernel {
    final AtomicReference<CompiledPolicy> last = new AtomicReference<>();
    volatile long appliedAtNanos;
    volatile int calls;

    @Override
    public void apply(CompiledPolicy next) {
        last.set(next);
        appliedAtNanos = System.nanoTime();
        calls++;
    }
}
