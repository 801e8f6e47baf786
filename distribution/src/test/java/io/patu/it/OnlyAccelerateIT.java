package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The datapath's choice of path per message ("Which path a message takes" in bpf/sockmap.bpf.c): the
 * writer of a stream of small writes leaves the sockhash for plain TCP, request/response stays redirected,
 * a reader that does not keep up holds the writer back through TCP, and the writer comes back to
 * redirection once the reader has caught up. Every test checks every byte of its stream.
 */
class OnlyAccelerateIT extends WithAgent {
    /** smallWriteBytes and smallWriteRun, the datapath's defaults (SockmapDatapath.Config). */
    static final int SMALL_MSG_BYTES = 256;
    static final int SMALL_RUN = 64;
    /** redirectQueueBytes and redirectReceiveBuffer, the datapath's defaults. */
    static final long REDIRECT_QUEUE_BYTES = 64L << 20;
    static final long REDIRECT_RECEIVE_BUFFER = 8L << 20;

    @Test
    void aStreamOfSmallWritesMovesToThePlainPathIntact() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long bytes = 4L << 20;
            long[] before = agent.sockmapCounters();
            long vethBefore = a.vethBytes() + b.vethBytes();
            BufferedReader server = start(a, "server", a.address.getHostAddress(), "7410");
            Process client = PodTraffic.streamCheck(agent, b, "client", a.address.getHostAddress(), "7410",
                    Long.toString(bytes), "64");
            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertEquals("OK " + bytes, server.readLine(), "every byte arrived, in order");
            long[] after = agent.sockmapCounters();
            assertEquals(1, after[AgentUnderTest.TO_PLAIN_SMALL] - before[AgentUnderTest.TO_PLAIN_SMALL],
                    "the direction was marked a small-write stream");
            // The reader follows at a segment that finds every redirected byte read (leaving drops what was
            // redirected to it and not yet read); a short stream may end before such a segment comes.
            long left = after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT];
            assertTrue(left == 1 || left == 2, "the writer's socket left the sockhash (" + left + " sockets left)");
            long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
            assertTrue(redirected < SMALL_RUN * 64, "only the first messages were redirected: " + redirected);
            // Each byte TCP carried crosses the writer's host veth at least; the reader's is skipped when the
            // packet datapath (datapath-xdp, profile full) delivers between the veths.
            assertTrue(a.vethBytes() + b.vethBytes() - vethBefore >= bytes - redirected, "the rest crossed the veths");
        }
    }

    /**
     * The jumbo rule (docs/mtu.md, jumboWriteBytes): between pods at the node-local jumbo MTU a stream of
     * 16 KiB writes leaves the sockhash for plain TCP, which carries it faster there, while a stream of
     * 128 KiB writes stays redirected; between pods at MTU 1500 (the conflist's mtu) the same 16 KiB stream
     * stays redirected. The counters say which path each stream took.
     */
    @Test
    void onTheJumboMtuMediumWriteStreamsTakeTcpAndLargeWritesStayRedirected() throws Exception {
        String plainMtu = "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\",\"mtu\":1500}";
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b");
                TestPod c = new TestPod(agent, "c", plainMtu); TestPod d = new TestPod(agent, "d", plainMtu)) {
            long bytes = 64L << 20;
            long[] before = agent.sockmapCounters();
            long vethBefore = a.vethBytes() + b.vethBytes();
            stream(a, b, "7420", bytes, 16384);
            long[] after = agent.sockmapCounters();
            assertEquals(1, after[AgentUnderTest.TO_PLAIN_SMALL] - before[AgentUnderTest.TO_PLAIN_SMALL],
                    "the 16 KiB direction was marked a stream for TCP");
            // Both ends leave: the reader as soon as it has read the redirected start (sk_psock.msg_tot_len), at
            // one of the segments still to come, since the writer cannot run 64 MiB ahead of it.
            assertEquals(2, after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT],
                    "both sockets left the sockhash");
            long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
            assertTrue(redirected < SMALL_RUN * 16384L, "only the first writes were redirected: " + redirected);
            // Each byte TCP carried crosses the writer's host veth at least; the reader's is skipped when the
            // packet datapath (datapath-xdp, profile full) delivers between the veths.
            assertTrue(a.vethBytes() + b.vethBytes() - vethBefore >= bytes - redirected, "the rest crossed the veths");

            before = after;
            stream(a, b, "7421", bytes, 128 << 10);
            after = agent.sockmapCounters();
            assertEquals(0, after[AgentUnderTest.TO_PLAIN_SMALL] - before[AgentUnderTest.TO_PLAIN_SMALL],
                    "128 KiB writes are no stream for TCP");
            assertEquals(0, after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT]);
            assertRedirectedButForBackpressure(before, after, bytes);

            before = after;
            stream(c, d, "7422", bytes, 16384);
            after = agent.sockmapCounters();
            assertEquals(0, after[AgentUnderTest.TO_PLAIN_SMALL] - before[AgentUnderTest.TO_PLAIN_SMALL],
                    "at MTU 1500 a 16 KiB stream stays redirected");
            assertEquals(0, after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT]);
            assertRedirectedButForBackpressure(before, after, bytes);
        }
    }

    /**
     * The stream stayed with redirection: all of it redirected, or, when its byte-checking reader fell behind
     * (a loaded machine), part of it sent through TCP by backpressure and never by the stream rule.
     */
    private static void assertRedirectedButForBackpressure(long[] before, long[] after, long bytes) {
        long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
        boolean backpressure = after[AgentUnderTest.TO_PLAIN_FULL] > before[AgentUnderTest.TO_PLAIN_FULL];
        assertTrue(redirected >= bytes || backpressure && redirected > bytes / 16,
                "redirected " + redirected + " of " + bytes + " bytes" + (backpressure ? ", the rest by backpressure" : ""));
    }

    /** {@code bytes} from {@code client} to {@code server} in writes of {@code writeSize}, every byte checked. */
    private void stream(TestPod server, TestPod client, String port, long bytes, int writeSize) throws Exception {
        BufferedReader verdict = start(server, "server", server.address.getHostAddress(), port);
        Process sender = PodTraffic.streamCheck(agent, client, "client", server.address.getHostAddress(), port,
                Long.toString(bytes), Integer.toString(writeSize));
        assertTrue(sender.waitFor(120, TimeUnit.SECONDS), "client finished");
        assertEquals("OK " + bytes, verdict.readLine(), "every byte arrived, in order");
    }

    @Test
    void requestResponseWithSmallMessagesStaysRedirected() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            int rounds = 2000;
            int size = 64;
            long[] before = agent.sockmapCounters();
            long vethBefore = a.vethBytes() + b.vethBytes();
            BufferedReader server = start(a, "serve-echo", a.address.getHostAddress(), "7411");
            Process client = PodTraffic.streamCheck(agent, b, "pingpong", a.address.getHostAddress(), "7411",
                    Integer.toString(rounds), Integer.toString(size));
            String clientOut = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertEquals("OK " + rounds, clientOut, "every reply was the request");
            assertEquals("OK " + (long) rounds * size, server.readLine());
            long[] after = agent.sockmapCounters();
            assertEquals(0, after[AgentUnderTest.TO_PLAIN_SMALL] - before[AgentUnderTest.TO_PLAIN_SMALL],
                    "no direction became a small-write stream");
            assertTrue(after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED] >= 2L * rounds * size,
                    "requests and replies were redirected");
            long onVeths = a.vethBytes() + b.vethBytes() - vethBefore;
            assertTrue(onVeths < 2L * rounds * size / 10, "only set-up and teardown crossed the veths: " + onVeths);
        }
    }

    @Test
    void aReaderThatStallsHoldsTheWriterBackAndRedirectionResumesOnceItCatchesUp() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long first = 512L << 20;
            long rest = 64L << 20;
            long[] before = agent.sockmapCounters();
            Process serverProcess = PodTraffic.streamCheck(agent, a, "serve-paused-phased", a.address.getHostAddress(),
                    "7412", Long.toString(first));
            BufferedReader server = new BufferedReader(new InputStreamReader(serverProcess.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", server.readLine());
            Process client = PodTraffic.streamCheck(agent, b, "phased", a.address.getHostAddress(), "7412",
                    Long.toString(first), "131072", Long.toString(rest), "131072");
            assertEquals("ACCEPTED", server.readLine());
            // Without backpressure the writer would hand all 512 MiB to the kernel within a second.
            assertTrue(!client.waitFor(3, TimeUnit.SECONDS), "the writer is still blocked while nobody reads");
            long[] memory = PodTraffic.receiveMemory(a, 7412);
            long queued = memory[0];
            // SO_RCVBUF doubles what it is given, capped at net.core.rmem_max first.
            long roomy = Math.min(REDIRECT_RECEIVE_BUFFER, 2 * hostRmemMax());
            if (roomy >= 2L << 20) {
                // The reader got its roomy buffer when TCP first carried the stalled direction to it; the
                // writer switched at half of it, and TCP filled at most the rest.
                assertEquals(roomy, memory[1], "the stalled reader's receive buffer was raised");
                assertTrue(queued <= roomy + (1L << 20), "the reader's queue stays within its buffer: " + queued + " bytes queued");
            } else {
                assertTrue(queued <= REDIRECT_QUEUE_BYTES + (4L << 20), "the reader's queue stays bounded: " + queued + " bytes queued");
            }
            long[] stalled = agent.sockmapCounters();
            assertTrue(stalled[AgentUnderTest.TO_PLAIN_FULL] > before[AgentUnderTest.TO_PLAIN_FULL],
                    "the direction left redirection for TCP's window");

            // The reader reads the first 512 MiB and acknowledges them; by then it has read everything TCP
            // carried, so the writer's next writes are redirected again.
            try (OutputStream release = serverProcess.getOutputStream()) {
                release.write("read\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "the writer finished once the reader read");
            assertEquals("OK " + (first + rest), server.readLine(), "every byte arrived, in order");
            long[] after = agent.sockmapCounters();
            assertTrue(after[AgentUnderTest.BACK_TO_REDIRECT] > stalled[AgentUnderTest.BACK_TO_REDIRECT],
                    "the writer came back to redirection once the reader had caught up");
        }
    }

    @Test
    void largeWritesAfterASmallWriteStreamStayOnTcpInOrder() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            long first = 64_000;
            long rest = 64L << 20;
            long[] before = agent.sockmapCounters();
            long vethBefore = a.vethBytes() + b.vethBytes();
            BufferedReader server = start(a, "serve-phased", a.address.getHostAddress(), "7413", Long.toString(first));
            Process client = PodTraffic.streamCheck(agent, b, "phased", a.address.getHostAddress(), "7413",
                    Long.toString(first), "64", Long.toString(rest), "65536");
            assertTrue(client.waitFor(120, TimeUnit.SECONDS), "client finished");
            assertEquals("OK " + (first + rest), server.readLine(), "every byte of both phases arrived, in order");
            long[] after = agent.sockmapCounters();
            long left = after[AgentUnderTest.SOCKETS_LEFT] - before[AgentUnderTest.SOCKETS_LEFT];
            assertTrue(left == 1 || left == 2, "the small writes' writer left the sockhash (" + left + " sockets left)");
            // The acknowledgement went back through TCP as well: its writer found no peer socket to redirect to.
            long redirected = after[AgentUnderTest.BYTES_REDIRECTED] - before[AgentUnderTest.BYTES_REDIRECTED];
            assertTrue(redirected < SMALL_RUN * 64, "nothing after the first small writes was redirected: " + redirected);
            assertTrue(a.vethBytes() + b.vethBytes() - vethBefore >= rest, "the large writes crossed the veths");
        }
    }

    private BufferedReader start(TestPod pod, String... args) throws Exception {
        Process process = PodTraffic.streamCheck(agent, pod, args);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("LISTENING", out.readLine());
        return out;
    }

    private static long hostRmemMax() throws Exception {
        try (var in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("/proc/sys/net/core/rmem_max"))) {
            return Long.parseLong(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        }
    }
}
