package io.patu.ota.internal;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The health window of a trial: the bundles on trial are judged every 250 ms for the whole window, and the
 * first failing sample (or an abort: the operator's rollback, the component stopping) ends it.
 */
final class HealthWindow {
    private final int seconds;
    private volatile String abortReason;

    HealthWindow(int seconds) {
        this.seconds = Math.max(1, seconds);
    }

    int seconds() {
        return seconds;
    }

    /** A new trial begins: an abort of the last one is forgotten. */
    void reset() {
        abortReason = null;
    }

    /** Ends the window being watched (or the next one, until {@link #reset}) with this reason. */
    void abort(String reason) {
        abortReason = reason;
    }

    /** Null when the bundles stayed healthy for the whole window; the first problem otherwise. */
    String watch(TrialHealth health) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        // SCR may still be binding what a restarted bundle's components reference: the first samples are
        // given a moment to settle, then every sample must be clean.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            String aborted = abortReason;
            if (aborted != null) {
                return aborted;
            }
            List<String> problems = health.problems();
            if (!problems.isEmpty() && System.nanoTime() > settle) {
                return String.join("; ", problems);
            }
            if (problems.isEmpty() && System.nanoTime() > end) {
                return null;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted during the health window";
            }
        }
    }
}
