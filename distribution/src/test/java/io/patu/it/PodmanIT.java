package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;

/**
 * A real runtime: podman 4.3 with its CNI backend runs containers on a Patu network written by
 * {@code patu install-cni}, chained with the reference portmap plugin. Two talk TCP through socket
 * redirection; a third publishes a port that a host connection reaches; a fourth reaches an "outside"
 * namespace beyond the node, which sees the node's address (egress); a policy file in the agent's policy directory
 * (Pod objects for the containers, since podman passes only their names) lets one container reach a server and
 * denies another, whose podman --label would have been allowed. The scenario lives in
 * tests/podman/podman-on-patu.sh, which a person can run by hand too; it checks the payload arrived,
 * the redirect counters carried it, the veths did not, the published port answers, and that nothing is
 * left behind.
 */
@KernelTest
class PodmanIT {
    private static final Path SCRIPT = Path.of(System.getProperty("patu.repo", ".."), "tests/podman/podman-on-patu.sh");

    @Test
    void podmanContainersTalkThroughRedirectionPublishAPortAndObeyAPolicyFile() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(SCRIPT.toString()).redirectErrorStream(true);
        builder.environment().put("PATU_DIST", AgentUnderTest.DIST.toAbsolutePath().toString());
        Process run = builder.start();
        run.getOutputStream().close();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(5, TimeUnit.MINUTES), "podman scenario timed out:\n" + output);
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("OK: the payload went through sk_msg socket redirection"), output);
        assertTrue(output.contains("OK: the published port reached the container"), output);
        assertTrue(output.contains("OK: a container reached the outside, masqueraded to the node's address"), output);
        assertTrue(output.contains("OK: a policy file allowed one container and denied another"), output);
        assertTrue(output.contains("nothing left behind"), output);
        System.out.println(output);
    }
}
