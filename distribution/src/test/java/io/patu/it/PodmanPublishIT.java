package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;

/**
 * podman 4.3 (CNI backend) on a conflist of Patu followed by the reference portmap plugin: a port published
 * with {@code podman run -p} reaches the container from the host, and {@code podman rm} (CNI DEL through the
 * chain) removes portmap's rules. The scenario is tests/podman/podman-publish-on-patu.sh, runnable by hand.
 */
@KernelTest
class PodmanPublishIT {
    private static final Path SCRIPT = Path.of(System.getProperty("patu.repo", ".."), "tests/podman/podman-publish-on-patu.sh");

    @Test
    void aPublishedPortReachesTheContainerThroughPatuAndPortmap() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(SCRIPT.toString()).redirectErrorStream(true);
        builder.environment().put("PATU_DIST", AgentUnderTest.DIST.toAbsolutePath().toString());
        Process run = builder.start();
        run.getOutputStream().close();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(5, TimeUnit.MINUTES), "podman scenario timed out:\n" + output);
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("OK: the published port reached the container"), output);
        assertTrue(output.contains("nothing left behind"), output);
        System.out.println(output);
    }
}
