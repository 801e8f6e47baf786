package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link PolicyProbePod} process in a pod: its servers, and probes it runs on request. Requests may be sent to
 * several probers before any answer is read, so that pods probe in parallel.
 */
final class PodProber implements AutoCloseable {
    private final String pod;
    private final Process process;
    private final OutputStream in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private PodProber(String pod, Process process) {
        this.pod = pod;
        this.process = process;
        this.in = process.getOutputStream();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the prober ended
            }
        }, "prober-" + pod);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the prober in the pod's namespace and the agent's test cgroup, serving TCP and UDP on {@code ports}. */
    static PodProber start(AgentUnderTest agent, String netnsName, int... ports) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xmx48m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                PolicyProbePod.class.getName()));
        for (int port : ports) {
            command.add(Integer.toString(port));
        }
        return new PodProber(netnsName, PodTraffic.inNetns(agent, netnsName, command.toArray(String[]::new)));
    }

    /** Waits until every server of the prober is bound. */
    void awaitReady() throws InterruptedException {
        assertEquals("READY", next(60, "servers bound"), "prober in " + pod);
    }

    /** A target as the prober reads it: ADDRESS:PORT/PROTO. */
    static String target(InetAddress address, int port, String protocol) {
        String host = address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
        return host + ":" + port + "/" + protocol;
    }

    /** Sends one request: probe every target in parallel, each given at most {@code timeoutMillis}. */
    void request(int timeoutMillis, List<String> targets) throws IOException {
        in.write(("PROBE " + timeoutMillis + " " + String.join(" ", targets) + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    /** The answer to the oldest request not yet answered: whether each of its targets was reached. */
    boolean[] answer(int targets, int timeoutMillis) throws InterruptedException {
        String line = next(30 + timeoutMillis / 1000, "probe results");
        if (!line.startsWith("RESULT ") || line.length() != "RESULT ".length() + targets) {
            fail("prober in " + pod + " answered '" + line + "' to " + targets + " probes");
        }
        boolean[] reached = new boolean[targets];
        for (int i = 0; i < targets; i++) {
            reached[i] = line.charAt("RESULT ".length() + i) == '1';
        }
        return reached;
    }

    /** {@link #request} then {@link #answer}. */
    boolean[] probe(int timeoutMillis, List<String> targets) throws IOException, InterruptedException {
        request(timeoutMillis, targets);
        return answer(targets.size(), timeoutMillis);
    }

    private String next(int seconds, String what) throws InterruptedException {
        String line = lines.poll(seconds, TimeUnit.SECONDS);
        if (line == null) {
            fail("no answer from the prober in " + pod + " within " + seconds + " s: " + what
                    + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")"));
        }
        return line;
    }

    /** Ends the prober (its stdin closes) and waits for it. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            in.close();
        } finally {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
