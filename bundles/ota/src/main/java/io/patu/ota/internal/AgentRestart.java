package io.patu.ota.internal;

import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;

/**
 * A restart of the whole agent, for what a running agent cannot swap ({@code api}, {@code native}, the
 * framework, this bundle). The launcher ({@code io.patu.launcher.AgentMain}, outside the framework) says it can
 * do one by the system property {@value #SUPPORTED}; asked by {@value #REQUEST} and a stop of the framework, it
 * runs {@code bin/patu run} again in the same process once every bundle has stopped, and the launcher script
 * starts the release on trial (counting the start) as on any start. Kernel objects stay pinned, as on any
 * agent stop, so pods keep their traffic.
 */
final class AgentRestart {
    static final String SUPPORTED = "patu.restart.supported";
    static final String REQUEST = "patu.restart.request";
    /** The remote shell command that caused the restart still has its answer to send. */
    private static final long GRACE_MILLIS = 1000;
    private static final Logger LOG = Logger.getLogger(AgentRestart.class.getName());

    private final BundleContext context;

    AgentRestart(BundleContext context) {
        this.context = context;
    }

    boolean supported() {
        return Boolean.getBoolean(SUPPORTED);
    }

    void request(String reason) {
        LOG.info("restarting the agent: " + reason);
        Thread restart = new Thread(() -> {
            try {
                Thread.sleep(GRACE_MILLIS);
                System.setProperty(REQUEST, reason);
                context.getBundle(0).stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (BundleException | IllegalStateException e) {
                LOG.log(Level.SEVERE, "could not stop the framework for a restart", e);
            }
        }, "patu-ota-restart");
        restart.start();
    }
}
