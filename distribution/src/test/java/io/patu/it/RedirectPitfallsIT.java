package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Known weak spots of sk_msg socket redirection, each checked against the real kernel. */
class RedirectPitfallsIT extends WithAgent {

    @Test
    void fionreadReportsTheBytesWaitingOnARedirectedSocket() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            int bytes = 100_000;
            long before = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED];
            Process server = PodTraffic.streamCheck(agent, a, "serve-fionread", a.address.getHostAddress(), "7400",
                    Integer.toString(bytes));
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", out.readLine());
            Process client = PodTraffic.streamCheck(agent, b, "client", a.address.getHostAddress(), "7400",
                    Integer.toString(bytes), "4096");
            assertTrue(client.waitFor(60, TimeUnit.SECONDS));
            assertEquals("FIONREAD " + bytes, out.readLine(), "a reader that asks first sees every byte waiting");
            assertEquals("OK " + bytes, out.readLine());
            assertTrue(agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - before >= bytes, "the bytes were redirected");
        }
    }

    @Test
    void tenThousandConcurrentConnectionsAreAllRedirectedAndIntact() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            int connections = 10_000;
            int bytes = 4096;
            long[] before = agent.sockmapCounters();
            Process server = PodTraffic.streamCheck(agent, a, "serve-concurrent", a.address.getHostAddress(), "7402",
                    Integer.toString(connections));
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", out.readLine());
            Process client = PodTraffic.streamCheck(agent, b, "connect-concurrent", a.address.getHostAddress(), "7402",
                    Integer.toString(connections), Integer.toString(bytes));
            BufferedReader clientOut = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("CONNECTED " + connections, clientOut.readLine(), "all connections open at once");
            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertEquals("OK " + connections + " " + (long) connections * bytes, out.readLine(), "every connection intact");
            long[] after = agent.sockmapCounters();
            assertTrue(after[AgentUnderTest.SOCKETS_ADDED] - before[AgentUnderTest.SOCKETS_ADDED] >= 2L * connections, "both ends of every connection entered the sockhash: "
                    + (after[AgentUnderTest.SOCKETS_ADDED] - before[AgentUnderTest.SOCKETS_ADDED]));
            assertEquals(0, after[AgentUnderTest.SOCKETS_ADD_FAILED] - before[AgentUnderTest.SOCKETS_ADD_FAILED], "no socket failed to enter the sockhash");
            assertTrue(after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED] >= (long) connections * bytes,
                    "every payload was redirected");
        }
    }

    @Test
    void connectionsOpenedBeforeTheDatapathStartedKeepWorking() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bundle = agent.bundleId("io.patu.datapath-sockmap");
            agent.gogo("stop " + bundle);
            AgentUnderTest.await("the datapath to stop", 20, () -> !Files.exists(agent.sockmapPins()));

            long bytes = 2L << 30;
            Process server = PodTraffic.streamCheck(agent, a, "server", a.address.getHostAddress(), "7401");
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", out.readLine());
            Process client = PodTraffic.streamCheck(agent, b, "client", a.address.getHostAddress(), "7401",
                    Long.toString(bytes), "65536");
            BufferedReader clientOut = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("CONNECTED", clientOut.readLine());
            agent.gogo("start " + bundle);
            AgentUnderTest.await("the datapath to start", 20, () -> Files.exists(agent.sockmapPins().resolve("sockmap_stats")));
            AgentUnderTest.await("the pods to be replayed", 20, () -> agent.localPodKeys().size() == 2);
            assertTrue(client.isAlive(), "the datapath started while the older connection was still sending");

            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertEquals("OK " + bytes, out.readLine(), "the older connection delivered everything");
            assertEquals(0, agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED],
                    "it stayed on the plain path: sockets are only redirected from their establishment on");
        }
    }
}
