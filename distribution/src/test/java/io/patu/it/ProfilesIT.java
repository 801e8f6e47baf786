package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Profiles decide what Felix installs: a bundle left out of the profile never has a class loaded, and a
 * feature disabled in {@code <stateDir>/features.json} is installed but not started by the launcher.
 */
class ProfilesIT {

    @Test
    void minimalNetworksPodsWithoutTheConsole() throws Exception {
        try (AgentUnderTest agent = new AgentUnderTest("minimal", null)) {
            try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
                assertTrue(a.address.getHostAddress().startsWith(agent.subnetPrefix), a.address.toString());
                assertTrue(b.address.getHostAddress().startsWith(agent.subnetPrefix), b.address.toString());
                assertEquals(2, agent.localPodKeys().size(), "socket redirection enabled for both pods");
            }
            String launch = launchProperties(agent);
            assertTrue(launch.contains("/org.apache.felix.gogo.runtime-"), launch);
            assertFalse(launch.contains("/org.apache.felix.gogo.shell-"), launch);
            assertFalse(launch.contains("/metrics-"), "minimal has no metrics bundle: " + launch);
            assertTrue(launch.contains("patu.features.required=ipam,sockmap\n"), "minimal requires ipam and sockmap: " + launch);
            assertFalse(launch.contains("/datapath-xdp-"), "the packet datapath is not in minimal: " + launch);

            String classes = loadedClasses(agent);
            assertTrue(classes.contains("org.apache.felix.gogo.runtime."), "the remote shell's Gogo runtime is there");
            assertFalse(classes.contains("org.apache.felix.gogo.shell."), "no class of the Gogo console was loaded");
            assertFalse(classes.contains("sun.net.httpserver."), "no class of the JDK's HTTP server was loaded");
            assertFalse(launch.contains("/policy-"), "no policy bundle in minimal: " + launch);
            assertFalse(classes.contains("io.patu.policy."), "no class of the policy feature was loaded");
            assertFalse(classes.contains("org.yaml.snakeyaml."), "nor of its YAML parser");
        }
    }

    @Test
    void aDisabledFeatureIsInstalledButNotStarted() throws Exception {
        try (AgentUnderTest agent = new AgentUnderTest("minimal", "{\"disabled\": [\"sockmap\"]}")) {
            try (TestPod a = new TestPod(agent, "a")) {
                assertTrue(a.address.getHostAddress().startsWith(agent.subnetPrefix), a.address.toString());
                assertFalse(Files.exists(agent.sockmapPins()), "no sockmap pins under " + agent.bpffsDir);
            }
            String launch = launchProperties(agent);
            String installOnly = launch.substring(launch.indexOf("felix.auto.install.1="));
            assertTrue(installOnly.contains("/datapath-sockmap-"), launch);
            assertFalse(loadedClasses(agent).contains("io.patu.datapath.sockmap.internal.SockmapDatapath"),
                    "the launcher did not start the disabled feature, so DS never loaded its component");
        }
    }

    private static String launchProperties(AgentUnderTest agent) throws IOException {
        return Files.readString(agent.stateDir.resolve("launch.properties"));
    }

    /** Every class the agent's JVM has loaded, as {@code jcmd PID VM.class_hierarchy} lists them. */
    private static String loadedClasses(AgentUnderTest agent) throws Exception {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Process jcmd = new ProcessBuilder(java.resolveSibling("jcmd").toString(), Long.toString(agent.pid()),
                "VM.class_hierarchy").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(jcmd.waitFor(60, TimeUnit.SECONDS), "jcmd finished");
        assertEquals(0, jcmd.exitValue(), out);
        assertTrue(out.contains("java.lang.Object"), out);
        return out;
    }
}
