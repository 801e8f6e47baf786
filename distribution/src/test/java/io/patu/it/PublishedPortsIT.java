package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;

/**
 * {@code podman run -p} through Patu alone, no portmap: the xdp feature serves the published port in eBPF. The
 * container is reached from an "outside" namespace through the agent's configured ingress device (native XDP)
 * and from a second one through a publish device (tcx),
 * from the node's own sockets and from another container; nothing of it is in iptables or nftables; the port
 * goes with the xdp feature and comes back with it (the lifecycle replays the pod with its ports); a policy
 * denying the container's ingress denies its published port; DEL and GC release the port_map entries. The
 * scenario lives in tests/podman/published-ports-on-patu.sh, which a person can run by hand too.
 */
@KernelTest
class PublishedPortsIT {
    private static final Path SCRIPT = Path.of(System.getProperty("patu.repo", ".."), "tests/podman/published-ports-on-patu.sh");

    @Test
    void podmanPublishesAPortThroughPatuWithoutPortmap() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(SCRIPT.toString()).redirectErrorStream(true);
        builder.environment().put("PATU_DIST", AgentUnderTest.DIST.toAbsolutePath().toString());
        Process run = builder.start();
        run.getOutputStream().close();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(5, TimeUnit.MINUTES), "published-ports scenario timed out:\n" + output);
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("OK: the published port answered from outside, from the node and from another container,"
                + " with nothing in iptables or nftables"), output);
        assertTrue(output.contains("OK: a device without XDP in publishDevices reached the published port through tcx"), output);
        assertTrue(output.contains("OK: stopping the xdp feature withdrew the published port, starting it again restored it"),
                output);
        assertTrue(output.contains("OK: a policy denying the container's ingress denied its published port"), output);
        assertTrue(output.contains("OK: podman rm (CNI DEL) released the published port"), output);
        assertTrue(output.contains("OK: a CNI GC released the published port"), output);
        assertTrue(output.contains("nothing left behind"), output);
        System.out.println(output);
    }
}
