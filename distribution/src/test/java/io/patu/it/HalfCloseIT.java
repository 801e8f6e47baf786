package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;


/**
 * A half-closed redirected connection (the client's shutdown(SHUT_WR)) delivers everything the client
 * sent and then the server's answer, and both sides see a clean end of stream.
 */
class HalfCloseIT extends WithAgent {

    @ParameterizedTest
    @ValueSource(ints = {64, 65536})
    void requestHalfCloseThenReply(int writeSize) throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long[] before = agent.sockmapCounters();
            long bytes = 10L << 20;
            Process server = java(a, "serve-reply", a.address.getHostAddress(), "7300");
            BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", serverOut.readLine());
            Process client = java(b, "request", a.address.getHostAddress(), "7300", Long.toString(bytes), Integer.toString(writeSize));
            String clientOut = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(client.waitFor(60, TimeUnit.SECONDS));
            assertEquals("OK " + bytes, serverOut.readLine(), "server saw the whole request");
            assertEquals("REPLY OK " + bytes, clientOut, "client got the reply after its half-close");
            long[] after = agent.sockmapCounters();
            if (writeSize < OnlyAccelerateIT.SMALL_MSG_BYTES) {
                // A stream of small writes leaves redirection after a few messages: the half-close then
                // travels on TCP behind the redirected start of the request.
                // Its reader follows once a segment finds it holding nothing unread.
                long left = after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT];
                assertTrue(left == 1 || left == 2, "the writer left the sockhash for plain TCP (" + left + " sockets left)");
            } else {
                PodTraffic.assertCarriedByRedirection(before, after, bytes);
            }
        }
    }

    private Process java(TestPod pod, String... args) throws IOException {
        return PodTraffic.streamCheck(agent, pod, args);
    }
}
