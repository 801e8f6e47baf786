package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * TCP between two pods with iperf3, both ends inside the pods' namespaces and inside the agent's test
 * cgroup, where the sockops program sees their sockets.
 */
final class PodTraffic {
    private static final Pattern SKMEM = Pattern.compile("skmem:\\(r(\\d+),rb(\\d+),");
    /**
     * iperf3's sending rate. These tests check where bytes go, not how fast: unpaced, the writer outruns a
     * reader that a loaded 2-vCPU CI machine deschedules for a few milliseconds, backpressure sends it through
     * TCP, and how much it sends there depends on the scheduler. At 1 Gbit/s the reader must stall for tens of
     * milliseconds before its queue reaches the backpressure threshold (half its receive buffer: 4 MiB here).
     */
    private static final String PACED_BITRATE = "1G";

    private PodTraffic() {
    }

    /** Sends {@code bytes} from client to server in writes of {@code writeSize}; returns the bytes received. */
    static long send(AgentUnderTest agent, TestPod server, TestPod client, long bytes, String writeSize) throws Exception {
        return send(agent, server, server.address, client, bytes, writeSize);
    }

    /** As {@link #send(AgentUnderTest, TestPod, TestPod, long, String)}, to one given address of the server pod. */
    static long send(AgentUnderTest agent, TestPod server, InetAddress serverAddress, TestPod client, long bytes,
            String writeSize) throws Exception {
        Process listener = inPod(agent, server, "iperf3", "-s", "-1", "-B", serverAddress.getHostAddress());
        try {
            AgentUnderTest.await("iperf3 to listen in " + server.name, 10, () -> listening(agent, server));
            Process sender = inPod(agent, client, "iperf3", "-c", serverAddress.getHostAddress(), "-n",
                    Long.toString(bytes), "-l", writeSize, "-b", PACED_BITRATE, "-J");
            String report = new String(sender.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!sender.waitFor(120, TimeUnit.SECONDS)) {
                sender.destroyForcibly();
                fail("iperf3 client did not finish");
            }
            assertEquals(0, sender.exitValue(), "iperf3 client failed:\n" + report);
            JsonNode end = AgentUnderTest.JSON.readTree(report).get("end");
            return end.get("sum_sent").get("bytes").asLong();
        } finally {
            listener.destroy();
            listener.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean listening(AgentUnderTest agent, TestPod pod) {
        try {
            Process ss = new ProcessBuilder("ip", "netns", "exec", pod.name, "ss", "-ltnH", "sport = :5201")
                    .redirectErrorStream(true).start();
            String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ss.waitFor(10, TimeUnit.SECONDS);
            return out.contains("5201");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * Sends {@code bytes} from client to server at {@code serverAddress} and asserts that socket redirection
     * carried it: both ends entered the sockhash and the sk_msg program redirected the payload, except what
     * it sent through TCP while the reader was behind (backpressure, counted by to_plain_full), and the
     * veths carried nothing more than that TCP part. Returns a line with the figures.
     */
    static String assertRedirected(AgentUnderTest agent, TestPod server, InetAddress serverAddress, TestPod client,
                                   long bytes, String writeSize) throws Exception {
        long[] before = agent.sockmapCounters();
        long vethBefore = server.vethBytes() + client.vethBytes();
        long sent = send(agent, server, serverAddress, client, bytes, writeSize);
        long[] after = agent.sockmapCounters();
        long onVeths = server.vethBytes() + client.vethBytes() - vethBefore;
        long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
        long sockets = after[AgentUnderTest.SOCKETS_ADDED] - before[AgentUnderTest.SOCKETS_ADDED];
        long backpressure = after[AgentUnderTest.TO_PLAIN_FULL] - before[AgentUnderTest.TO_PLAIN_FULL];
        assertTrue(sockets >= 2, "both ends of the connection entered the sockhash");
        assertTrue(after[AgentUnderTest.MSGS_REDIRECTED] > before[AgentUnderTest.MSGS_REDIRECTED], "the sk_msg program redirected messages");
        assertCarriedByRedirection(before, after, sent);
        // The TCP part crosses both veths (one each way through the bridge); the rest is connection set-up,
        // iperf3's control connection and ACKs.
        long viaTcp = Math.max(0, sent - redirected);
        assertTrue(onVeths < viaTcp * 23 / 10 + sent / 100,
                "the veths carried only the TCP part: " + onVeths + " bytes for " + viaTcp + " sent through TCP");
        return String.format("sent %d, redirected %d bytes in %d messages, %d through TCP (%d backpressure switches), "
                        + "%d sockets added, veths %d bytes", sent, redirected,
                after[AgentUnderTest.MSGS_REDIRECTED] - before[AgentUnderTest.MSGS_REDIRECTED], viaTcp, backpressure,
                sockets, onVeths);
    }

    /**
     * Between two readings of the sockmap counters, socket redirection carried {@code bytes}: all of them, or
     * at least half when the reader fell behind and the writer went through TCP for a while (backpressure).
     */
    static void assertCarriedByRedirection(long[] before, long[] after, long bytes) {
        long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
        boolean backpressure = after[AgentUnderTest.TO_PLAIN_FULL] > before[AgentUnderTest.TO_PLAIN_FULL];
        assertTrue(redirected >= bytes || (backpressure && redirected >= bytes / 2),
                "socket redirection carried " + redirected + " of " + bytes + " bytes"
                        + (backpressure ? ", the rest went through TCP while the reader was behind" : ""));
    }

    /** {@link StreamCheck} with these arguments, as its own JVM in the pod and the agent's test cgroup. */
    static Process streamCheck(AgentUnderTest agent, TestPod pod, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), StreamCheck.class.getName()));
        command.addAll(List.of(args));
        return inPod(agent, pod, command.toArray(String[]::new));
    }

    /** A command in the pod's namespace, started from inside the agent's test cgroup. */
    static Process inPod(AgentUnderTest agent, TestPod pod, String... command) throws IOException {
        return inNetns(agent, pod.name, command);
    }

    /** A command in the named network namespace, started from inside the agent's test cgroup. */
    static Process inNetns(AgentUnderTest agent, String netnsName, String... command) throws IOException {
        // sh joins the cgroup first ($0), then becomes the command in the pod's namespace ($1).
        List<String> line = new ArrayList<>(List.of("sh", "-c",
                "echo $$ > \"$0/cgroup.procs\" && ns=\"$1\" && shift && exec ip netns exec \"$ns\" \"$@\"",
                agent.cgroup.toString(), netnsName));
        line.addAll(List.of(command));
        return new ProcessBuilder(line).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * Bytes charged to the receive side of the pod's connection on local {@code port} (established, or closed by
     * its peer), redirected ones included, and its receive buffer ({@code ss -m}: r and rb).
     */
    static long[] receiveMemory(TestPod pod, int port) throws Exception {
        Process ss = new ProcessBuilder("ip", "netns", "exec", pod.name, "ss", "-tmnH", "state", "connected",
                "( sport = :" + port + " )").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ss.waitFor(10, TimeUnit.SECONDS));
        Matcher m = SKMEM.matcher(out);
        assertTrue(m.find(), "ss shows the connection's memory: " + out);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }
}
