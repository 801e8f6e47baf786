package io.patu.ota.internal;

import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.patu.ota.internal.UpdateManager.Outcome;

/**
 * Asks the source for a newer release every poll interval and installs it if so configured. A source that
 * keeps failing is asked less and less often (up to 16 intervals apart): a server failing in a loop is not
 * hammered.
 */
final class ReleasePoller {
    private final ScheduledExecutorService scheduler;
    private final int seconds;
    private final boolean autoInstall;
    private final Supplier<Outcome> check;
    private final Supplier<Outcome> install;
    private volatile String lastPoll = "never";
    private volatile boolean closed;
    private int failures;

    ReleasePoller(ScheduledExecutorService scheduler, int seconds, boolean autoInstall, Supplier<Outcome> check,
            Supplier<Outcome> install) {
        this.scheduler = scheduler;
        this.seconds = seconds;
        this.autoInstall = autoInstall;
        this.check = check;
        this.install = install;
    }

    void start() {
        scheduler.schedule(this::poll, seconds, TimeUnit.SECONDS);
    }

    void stop() {
        closed = true;
    }

    String lastPoll() {
        return lastPoll;
    }

    private void poll() {
        if (closed) {
            return;
        }
        boolean failed = false;
        Outcome outcome = check.get();
        if (outcome.ok() && autoInstall) {
            outcome = install.get();
        } else if (!outcome.ok() && !outcome.message().contains("not newer")) {
            failed = true;
        }
        lastPoll = Instant.now() + ": " + outcome.message();
        failures = failed ? Math.min(failures + 1, 4) : 0;
        if (!closed) {
            scheduler.schedule(this::poll, (long) seconds << failures, TimeUnit.SECONDS);
        }
    }
}
