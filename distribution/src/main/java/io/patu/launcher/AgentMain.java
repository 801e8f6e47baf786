package io.patu.launcher;

import java.util.Map;
import java.util.ServiceLoader;

import org.apache.felix.main.AutoProcessor;
import org.apache.felix.main.Main;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The agent's main class: what Felix's own launcher does (launch properties, the profile's bundles installed
 * and started, the framework stopped on SIGTERM), plus a restart into a new JVM in the same process. A
 * bundle that needs one (the ota bundle, for a release of {@code api}, {@code native} or the framework) sets
 * {@value #RESTART_REQUEST} and stops the framework; once every bundle has stopped (the datapaths keep their
 * pinned kernel objects, as on any agent stop) this class runs {@code bin/patu run} again with
 * {@code execv}: same pid, same console and log, so a service manager, {@code patu stop} and the terminal all
 * keep the agent they had, and the launcher selects the jars and counts the trial's start as on any start.
 */
public final class AgentMain {
    /** Set by this class: bundles may ask it for a restart. */
    public static final String RESTART_SUPPORTED = "patu.restart.supported";
    /** Set by a bundle (to why) before it stops the framework: the agent starts again instead of exiting. */
    public static final String RESTART_REQUEST = "patu.restart.request";
    /**
     * The exit status when the agent could not start itself again: patu.service restarts on it
     * (RestartForceExitStatus); in the foreground, whoever ran the agent runs it again.
     */
    static final int RESTART_EXIT_STATUS = 75;

    /** SIGTERM (or any exit) stops the framework: the agent is to end, not to start again. */
    private static volatile boolean exiting;

    private AgentMain() {
    }

    public static void main(String[] args) throws Exception {
        Main.loadSystemProperties();
        Map<String, String> properties = Main.loadConfigProperties();
        if (properties == null) {
            System.err.println("patu: no launch properties (felix.config.properties)");
            System.exit(1);
        }
        Main.copySystemProperties(properties);
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path")).newFramework(properties);
        Thread shutdown = new Thread(() -> {
            exiting = true;
            stop(framework);
        }, "patu-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        System.setProperty(RESTART_SUPPORTED, "true");
        framework.init();
        AutoProcessor.process(properties, framework.getBundleContext());
        FrameworkEvent event;
        do {
            framework.start();
            event = framework.waitForStop(0);
        } while (event.getType() == FrameworkEvent.STOPPED_UPDATE);
        String restart = System.getProperty(RESTART_REQUEST);
        if (restart != null && !exiting) {
            Runtime.getRuntime().removeShutdownHook(shutdown);
            System.out.println("patu: the agent starts again: " + restart);
            String home = System.getProperty("patu.home");
            String launcher = System.getProperty("patu.launcher", home + "/bin/patu");
            try {
                Relaunch.exec(launcher, "patu", "run", "--profile", System.getProperty("patu.profile", "full"),
                        "--config", System.getProperty("patu.config", home + "/conf/patu.json"));
            } catch (Throwable e) {
                System.err.println("patu: could not start the agent again (" + e + "); exit status "
                        + RESTART_EXIT_STATUS + " asks the service manager to");
            }
            System.exit(RESTART_EXIT_STATUS);
        }
        System.exit(0);
    }

    private static void stop(Framework framework) {
        try {
            framework.stop();
            framework.waitForStop(0);
        } catch (Exception e) {
            System.err.println("patu: stopping the framework: " + e);
        }
    }
}
