package io.patu.datapath.xdp.internal;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs {@code follow} as soon as the policy feature's pin directory or a pin in it appears, goes or is replaced
 * (inotify on bpffs), so the fast path of published ports consults the map policy has just created, not the one
 * it had before a restart. The periodic check on the node-address timer stays as a fallback (a missed event, a
 * bpffs without inotify).
 */
final class PolicyPinWatch implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PolicyPinWatch.class.getName());

    private final Path bpffsDir;
    private final Path policyDir;
    private final Runnable follow;
    private final WatchService watch;
    private final Thread thread;

    private PolicyPinWatch(Path policyDir, Runnable follow, WatchService watch) {
        this.bpffsDir = policyDir.getParent();
        this.policyDir = policyDir;
        this.follow = follow;
        this.watch = watch;
        this.thread = Thread.ofPlatform().daemon().name("patu-xdp-policy-pins").unstarted(this::run);
    }

    /** Starts watching {@code policyDir} (and its parent, for the directory itself); null if inotify is refused. */
    static PolicyPinWatch start(Path policyDir, Runnable follow) {
        try {
            PolicyPinWatch pins = new PolicyPinWatch(policyDir, follow, FileSystems.getDefault().newWatchService());
            pins.bpffsDir.register(pins.watch, StandardWatchEventKinds.ENTRY_CREATE);
            pins.registerPolicyDir();
            pins.thread.start();
            return pins;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(Level.WARNING, "cannot watch " + policyDir + "; policy's pins are followed on the timer only", e);
            return null;
        }
    }

    private void registerPolicyDir() {
        if (!Files.isDirectory(policyDir)) {
            return;
        }
        try {
            policyDir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            // Gone again between the check and the registration: its creation is watched on the parent.
        }
    }

    private void run() {
        while (true) {
            WatchKey key;
            try {
                key = watch.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            key.pollEvents(); // which entry does not matter: follow looks at the pin itself
            if (key.watchable().equals(bpffsDir)) {
                registerPolicyDir(); // a no-op when it is registered already
            }
            key.reset();
            follow.run();
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            // nothing held beyond the descriptor
        }
        thread.interrupt();
    }
}
