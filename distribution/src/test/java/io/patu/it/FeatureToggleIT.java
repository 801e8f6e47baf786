package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;


/** Switching socket redirection off and on under live traffic must never lose or corrupt data. */
class FeatureToggleIT extends WithAgent {

    @Test
    void aStreamRunningWhileTheDatapathStopsArrivesIntact() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bundle = agent.bundleId("io.patu.datapath-sockmap");
            long bytes = 4L << 30;
            Process server = java(a, "server", a.address.getHostAddress(), "7000");
            BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", serverOut.readLine());
            long[] before = agent.sockmapCounters();
            Process client = java(b, "client", a.address.getHostAddress(), "7000", Long.toString(bytes), "65536");
            AgentUnderTest.await("redirected traffic", 20, () -> agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED] > (64 << 20));

            agent.gogo("stop " + bundle);
            AgentUnderTest.await("the sockmap pins to be removed", 20, () -> !Files.exists(agent.sockmapPins()));
            assertTrue(client.isAlive(), "the datapath stopped while the stream was still running");

            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertTrue(server.waitFor(120, TimeUnit.SECONDS), "server finished");
            String verdict = serverOut.readLine();
            assertEquals("OK " + bytes, verdict, "the stream arrived intact");
        }
    }

    /**
     * Bytes already redirected into a reader's queue, but not read, when the datapath goes: stopping the bundle
     * takes the sockets out of the sockhash, and the reader must still get every one of them.
     */
    @Test
    void bytesQueuedForAReaderWhenTheDatapathStopsAreStillRead() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bundle = agent.bundleId("io.patu.datapath-sockmap");
            long bytes = 2L << 20; // under the 4 MiB at which backpressure would send the writer through TCP
            Process server = java(a, "serve-paused", a.address.getHostAddress(), "7003");
            BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", serverOut.readLine());
            long[] before = agent.sockmapCounters();
            Process client = java(b, "client", a.address.getHostAddress(), "7003", Long.toString(bytes), "65536");
            assertEquals("ACCEPTED", serverOut.readLine());
            assertTrue(client.waitFor(30, TimeUnit.SECONDS), "the writer handed every byte over and closed");
            long redirected = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
            assertTrue(redirected >= bytes, "the bytes were redirected: " + redirected);
            long queued = PodTraffic.receiveMemory(a, 7003)[0];
            assertTrue(queued >= bytes, "the reader holds them unread: " + queued + " bytes charged");

            agent.gogo("stop " + bundle);
            AgentUnderTest.await("the sockmap pins to be removed", 20, () -> !Files.exists(agent.sockmapPins()));
            try (OutputStream release = server.getOutputStream()) {
                release.write("read\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the reader finished");
            assertEquals("OK " + bytes, serverOut.readLine(), "every queued byte was read after the datapath stopped");
        }
    }

    @Test
    void fiftyDisableEnableCyclesUnderTrafficLoseNothingAndLeakNothing() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bundle = agent.bundleId("io.patu.datapath-sockmap");
            String heldBefore = agent.heldBpfObjects();
            // One long stream that lives through every cycle, and a steady flow of new connections that
            // start under whatever state the datapath is in.
            Process longServer = java(a, "server", a.address.getHostAddress(), "7001");
            BufferedReader longOut = new BufferedReader(new InputStreamReader(longServer.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", longOut.readLine());
            long longBytes = 24L << 30;
            Process longClient = java(b, "client", a.address.getHostAddress(), "7001", Long.toString(longBytes), "16384");
            Process manyServer = java(a, "serve-many", a.address.getHostAddress(), "7002");
            BufferedReader verdicts = new BufferedReader(new InputStreamReader(manyServer.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", verdicts.readLine());
            Process manyClient = java(b, "send-many", a.address.getHostAddress(), "7002", Integer.toString(1 << 20), "4096");
            try {
                for (int cycle = 0; cycle < 50; cycle++) {
                    agent.gogo("stop " + bundle);
                    AgentUnderTest.await("pins removed (cycle " + cycle + ")", 20, () -> !Files.exists(agent.sockmapPins()));
                    agent.gogo("start " + bundle);
                    AgentUnderTest.await("pins back (cycle " + cycle + ")", 20,
                            () -> Files.exists(agent.sockmapPins().resolve("sockmap_stats")));
                    AgentUnderTest.await("pods replayed (cycle " + cycle + ")", 20, () -> agent.localPodKeys().size() == 2);
                }
            } finally {
                manyClient.getOutputStream().close();
            }
            assertTrue(manyClient.waitFor(60, TimeUnit.SECONDS), "the connection loop ended");
            String sent = new String(manyClient.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(sent.startsWith("SENT "), "every new connection succeeded: " + sent);
            int connections = Integer.parseInt(sent.substring("SENT ".length()));
            for (int c = 0; c < connections; c++) {
                assertEquals("OK " + (1 << 20), verdicts.readLine(), "connection " + c + " of " + connections);
            }
            manyServer.destroy();
            manyServer.waitFor(30, TimeUnit.SECONDS);
            assertTrue(connections >= 50, "new connections kept flowing through the cycles: " + connections);

            assertTrue(longClient.isAlive(), "the long stream outlived all 50 cycles");
            longClient.destroy();
            longClient.waitFor(30, TimeUnit.SECONDS);
            longServer.waitFor(30, TimeUnit.SECONDS);
            String verdict = longOut.readLine();
            assertTrue(verdict != null && verdict.startsWith("OK "), "long stream, cut by the test: " + verdict);
            String heldAfter = agent.heldBpfObjects();
            System.out.printf("50 cycles: %d new connections verified, long stream intact (%s), bpf objects held %s -> %s%n",
                    connections, verdict, heldBefore, heldAfter);
            assertEquals(heldBefore, heldAfter, "bpf objects held by the agent after 50 cycles");
        }
    }

    private Process java(TestPod pod, String... args) throws IOException {
        return PodTraffic.streamCheck(agent, pod, args);
    }
}
