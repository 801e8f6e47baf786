package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;

/**
 * Over-the-air updates of the real agent ({@code bin/patu run}) from releases signed by the real tool
 * ({@code bin/patu ota keygen|pack}): a good release commits under live redirected traffic and survives a
 * restart; bad ones roll themselves back; kill -9 at each step leaves exactly one committed release; a full
 * disk refuses cleanly. The releases are made from the shipped ipam jar: another version, or one broken on
 * purpose (an activator that throws, a component that can never be satisfied, an activator that kills the JVM).
 */
@KernelTest
class OtaIT {
    private static final Path DIST = AgentUnderTest.DIST;

    private final String id = TestNames.unique("", 6);
    private final Path work = Path.of("/tmp/po-ota-" + id);
    private Path releases = work.resolve("releases");
    private AgentUnderTest agent;
    private Path tmpfs;

    /** The test's stream processes: ended after each test, also when it failed before it ended them. */
    private final List<Process> streams = new java.util.ArrayList<>();

    private Process stream(TestPod pod, String... args) throws IOException {
        Process process = PodTraffic.streamCheck(agent, pod, args);
        streams.add(process);
        return process;
    }

    @AfterEach
    void removeEverything() throws Exception {
        for (Process process : streams) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        try {
            if (agent != null) {
                agent.close();
                assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
            }
        } finally {
            if (tmpfs != null) {
                run("umount", tmpfs.toString());
            }
            AgentUnderTest.deleteTree(work);
        }
    }

    // --- Tests ---------------------------------------------------------------------------------------------

    @Test
    void anIpamUpdateUnderLiveRedirectedTrafficCommitsAndSurvivesARestart() throws Exception {
        startAgent(3, null);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PacedStream stream = new PacedStream(a, b, 7100, 64L << 30);
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));

            pack(1, variant("0.1.1", m -> { }, Map.of(), Map.of()));
            GapWatch update = new GapWatch(stream, start);
            AgentUnderTest.CniCall install = agent.shell("patu:ota install");
            update.stop();
            System.out.printf("ipam update: %s%n", update);
            assertEquals(0, install.exitCode(), install.stdout());
            assertTrue(install.stdout().contains("release 1 committed"), install.stdout());
            update.assertNoGapOverOneSecond();
            long after = redirected(start);
            AgentUnderTest.await("redirection to go on after the update", 10, () -> redirected(start) > after + (32 << 20));
            assertEquals("0.1.1", ipamVersion());
            assertTrue(agent.shell("patu:ota status").stdout().contains("release: 1"));
            stream.assertIntact();

            // IPAM works on the new version, and the new version is what the next start runs.
            try (TestPod c = new TestPod(agent, "c")) {
                assertNotEquals(a.address, c.address);
            }
            agent.stopAgent();
            agent.restart();
            // The ota feature starts a moment after the CNI socket answers.
            agent.awaitReady();
            assertEquals("0.1.1", ipamVersion());
            assertTrue(ota("history").contains("committed"), ota("history"));
        }
    }

    /**
     * The bundle that owns the pinned datapath, updated and rolled back under a redirected stream: each new
     * revision adopts the pins (Handover), so the pins never go and redirection never stops.
     */
    @Test
    void aSockmapUpdateAndItsRollbackKeepRedirectedConnectionsRedirected() throws Exception {
        startAgent(3, null);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PacedStream stream = new PacedStream(a, b, 7101, 64L << 30);
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));

            pack(1, variant("datapath-sockmap", "0.1.1", m -> { }, Map.of(), Map.of()));
            // The same measure with nothing happening: what the machine itself does to the stream.
            GapWatch idle = new GapWatch(stream, start);
            Thread.sleep(5000);
            idle.stop();
            GapWatch update = new GapWatch(stream, start);
            AgentUnderTest.CniCall install = agent.shell("patu:ota install");
            update.stop();
            assertEquals(0, install.exitCode(), install.stdout());
            assertTrue(install.stdout().contains("release 1 committed"), install.stdout());
            assertEquals("0.1.1", bundleVersion("io.patu.datapath-sockmap"));
            long afterUpdate = redirected(start);
            AgentUnderTest.await("redirection to go on after the update", 10, () -> redirected(start) > afterUpdate + (32 << 20));

            GapWatch rollback = new GapWatch(stream, start);
            AgentUnderTest.CniCall back = agent.shell("patu:ota rollback");
            rollback.stop();
            assertEquals(0, back.exitCode(), back.stdout());
            assertEquals("0.1.0.SNAPSHOT", bundleVersion("io.patu.datapath-sockmap"));
            long after = redirected(start);
            AgentUnderTest.await("redirection to go on after the rollback", 10, () -> redirected(start) > after + (32 << 20));

            System.out.printf("sockmap idle: %s%nsockmap update: %s%nsockmap rollback: %s%n", idle, update, rollback);
            update.assertNoGapOverOneSecond();
            rollback.assertNoGapOverOneSecond();
            stream.assertIntact();
        }
    }

    /**
     * The rate of the tests' streams, in Mbit/s. Paced, so that the stream never backpressures (a reader that
     * keeps up gets every byte redirected: a redirect counter that stands still is then a real pause of
     * redirection, not bytes going through TCP for a while) and leaves CPU to the agent. An unpaced stream
     * takes both vCPUs of the test machine: the restarting agent and the stream then wait for each other, and
     * the reader falls behind, so the sender goes through TCP while the counter stands still (docs/ota.md
     * "Measured"). 200 Mbit/s of 64 KiB writes is a write every 2.6 ms. -Dpatu.it.streamMbits=0 sends unpaced.
     */
    private static final long STREAM_MBITS = Long.getLong("patu.it.streamMbits", 200);

    /** The issue's bound on a traffic gap during an update: no interval of 1 s without bytes for the application. */
    private static final long MAX_GAP_MILLIS = 1000;

    /**
     * One checked stream between two pods, paced at {@value #STREAM_MBITS} Mbit/s (StreamCheck client-paced),
     * whose server reports the longest time between two of its successful reads in windows the test opens and
     * closes (StreamCheck serve-gaps): the gap as the receiving application sees it.
     */
    private final class PacedStream {
        final Process server;
        final Process client;
        private final BufferedReader serverOut;
        private final java.io.Writer marks;

        PacedStream(TestPod to, TestPod from, int port, long bytes) throws Exception {
            server = stream(to, "serve-gaps", to.address.getHostAddress(), Integer.toString(port));
            serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            marks = new java.io.OutputStreamWriter(server.getOutputStream(), StandardCharsets.US_ASCII);
            assertEquals("LISTENING", serverOut.readLine());
            client = stream(from, "client-paced", to.address.getHostAddress(), Integer.toString(port),
                    Long.toString(bytes), "65536", Long.toString(STREAM_MBITS));
        }

        /** Closes the server's current window and opens the next: {longest gap between reads in ms, bytes read}. */
        long[] window() throws IOException {
            marks.write("\n");
            marks.flush();
            String line = serverOut.readLine();
            assertTrue(line != null && line.startsWith("GAP "), "the stream's server answered " + line);
            String[] parts = line.split(" ");
            return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
        }

        /** Ends the stream (the test cuts it) and asserts it was never reset nor corrupted. */
        void assertIntact() throws Exception {
            assertTrue(client.isAlive(), "the stream's client runs");
            client.destroy();
            client.waitFor(30, TimeUnit.SECONDS);
            marks.close();
            assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            String verdict = serverOut.readLine();
            assertTrue(verdict != null && verdict.startsWith("OK "), "no reset, no corruption (stream cut by the test): " + verdict);
        }
    }

    /**
     * A window of a paced stream: the longest time its receiving application got no byte (the issue's "gap"),
     * and, sampled every 10 ms, the longest time the node-wide redirect counter stood still and whether the pins
     * were ever missing. On a stream that never backpressures, a still counter is a pause of redirection itself.
     */
    private final class GapWatch {
        private static final int MIN_SAMPLES = 30;
        private final PacedStream stream;
        private final long[] start;
        private final long redirectedAtStart;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile long longestStillMillis;
        private volatile int pinsMissing;
        private volatile long samples;
        private long appGapMillis = -1;
        private long appBytes;
        private long redirectedInWindow;
        private long windowMillis;
        private final long began = System.nanoTime();

        GapWatch(PacedStream stream, long[] start) throws IOException {
            this.stream = stream;
            this.start = start;
            stream.window();
            redirectedAtStart = redirected(start);
            thread = new Thread(() -> {
                long last = -1;
                long since = System.nanoTime();
                while (running) {
                    try {
                        long now = redirected(start);
                        samples++;
                        if (now != last) {
                            last = now;
                            since = System.nanoTime();
                        } else {
                            longestStillMillis = Math.max(longestStillMillis, (System.nanoTime() - since) / 1_000_000);
                        }
                    } catch (RuntimeException e) {
                        pinsMissing++;
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "redirection-watch");
            thread.start();
        }

        /**
         * Ends the window, but not before {@value #MIN_SAMPLES} samples: a rollback can be over in 100 ms, and
         * the moments right after a swap are where a broken redirection would show first.
         */
        GapWatch stop() throws Exception {
            while (samples < MIN_SAMPLES && thread.isAlive()) {
                Thread.sleep(10);
            }
            running = false;
            thread.join();
            long[] gap = stream.window();
            appGapMillis = gap[0];
            appBytes = gap[1];
            redirectedInWindow = redirected(start) - redirectedAtStart;
            windowMillis = (System.nanoTime() - began) / 1_000_000;
            return this;
        }

        /**
         * The issue's "no gap over 1 s": the receiving application got bytes at least once a second, and so did
         * redirection (the counter grew across the window and never stood still for 1 s); the pins were there in
         * every sample. Measured on the 2-vCPU machine: at most 18 ms for either, and 109 ms with two busy
         * loops taking both vCPUs (docs/ota.md "Measured"): 1 s leaves a wide margin for a slower CI machine. A pause of the test JVM does not show as stillness
         * (the next sample finds the counter moved), only a stream that got no bytes through does.
         */
        void assertNoGapOverOneSecond() {
            assertEquals(0, pinsMissing, "samples in which the pinned stats map could not be read");
            assertTrue(samples > 10, "samples taken: " + samples);
            assertTrue(redirectedInWindow > 0, "the redirect counter grew across the window: " + this);
            assertTrue(appGapMillis < MAX_GAP_MILLIS, "the receiving application got no byte for " + appGapMillis + " ms: " + this);
            if (STREAM_MBITS > 0) {
                // Unpaced, the reader falls behind and bytes go through TCP while the counter stands still.
                assertTrue(longestStillMillis < MAX_GAP_MILLIS, "redirection stood still for " + longestStillMillis + " ms: " + this);
            }
        }

        @Override
        public String toString() {
            return windowMillis + " ms window, application gap " + appGapMillis + " ms (" + appBytes / 1_000_000
                    + " MB read), " + samples + " samples, redirect counter longest still " + longestStillMillis
                    + " ms, grew " + redirectedInWindow / 1_000_000 + " MB, pins missing in " + pinsMissing;
        }
    }

    /**
     * lifecycle serves the CNI socket and the remote shell: the update is started on the console, the socket
     * is served again by the new revision, pods stay registered, redirected traffic is not touched.
     */
    @Test
    void aLifecycleUpdateUnderLiveRedirectedTrafficCommits() throws Exception {
        startAgent(3, null);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PacedStream stream = new PacedStream(a, b, 7102, 64L << 30);
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));
            String podsBefore = agent.shell("patu:pods").stdout();

            pack(1, variant("lifecycle", "0.1.1", m -> { }, Map.of(), Map.of()));
            GapWatch update = new GapWatch(stream, start);
            agent.gogo("patu:ota install");
            AgentUnderTest.await("the commit of lifecycle", 60, () -> state().contains("committed=1\n"));
            update.stop();
            System.out.printf("lifecycle update: %s%n", update);
            update.assertNoGapOverOneSecond();
            assertEquals("0.1.1", bundleVersion("io.patu.lifecycle"));
            assertEquals(podsBefore, agent.shell("patu:pods").stdout(), "the pod registry is unchanged");
            try (TestPod c = new TestPod(agent, "c")) {
                assertTrue(c.address.getHostAddress().startsWith(agent.subnetPrefix), "CNI ADD served by the new revision");
            }
            long after = redirected(start);
            AgentUnderTest.await("redirection to go on", 10, () -> redirected(start) > after + (32 << 20));
            stream.assertIntact();
        }
    }

    /**
     * The whole-agent restart every update of api/native/ota relies on, as a power cut gives it: kill -9 of the
     * agent 20 times under a redirected stream. The stream is never reset and stays redirected (no gap of 1 s
     * for its reader nor for redirection across the whole loop), the restarted agent serves CNI again, pods and
     * leases are unchanged.
     */
    @Test
    void twentyKillNinesOfTheAgentUnderRedirectedTrafficBreakNoConnection() throws Exception {
        startAgent(3, null);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PacedStream stream = new PacedStream(a, b, 7103, 256L << 30);
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));
            String pods = agent.shell("patu:pods").stdout();
            String leases = agent.shell("patu:leases").stdout();
            GapWatch watch = new GapWatch(stream, start);
            // On a loaded machine a restart has taken over 30 s to answer.
            agent.startSeconds = 180;
            int kills = Integer.getInteger("patu.it.otaKills", 20);
            long began = System.nanoTime();
            for (int i = 0; i < kills; i++) {
                agent.kill9();
                agent.restart();
                assertTrue(stream.client.isAlive(), "the stream survived kill -9 number " + (i + 1));
            }
            watch.stop();
            System.out.printf("%d kill -9 in %d s: %s%n", kills, (System.nanoTime() - began) / 1_000_000_000L, watch);
            watch.assertNoGapOverOneSecond();
            assertEquals(pods, agent.shell("patu:pods").stdout(), "pod registry");
            assertEquals(leases, agent.shell("patu:leases").stdout(), "leases");
            try (TestPod c = new TestPod(agent, "c")) {
                assertTrue(c.address.getHostAddress().startsWith(agent.subnetPrefix), "CNI ADD served by the restarted agent");
            }
            long after = redirected(start);
            AgentUnderTest.await("redirection to go on", 10, () -> redirected(start) > after + (32 << 20));
            stream.assertIntact();
        }
    }

    @Test
    void aBundleWhoseActivationThrowsIsRolledBack() throws Exception {
        startAgent(3, null);
        Map<String, byte[]> activator = compileActivator("Throwing",
                "throw new IllegalStateException(\"broken on purpose\");");
        pack(1, variant("0.1.2", addActivator("Throwing"), activator, Map.of()));
        AgentUnderTest.CniCall install = agent.shell("patu:ota install");
        assertNotEquals(0, install.exitCode());
        assertTrue(install.stdout().contains("release 1 rolled back") && install.stdout().contains("broken on purpose"), install.stdout());
        assertRunsShippedIpam();
        assertTrue(ota("history").contains("rolled back"));
    }

    @Test
    void aBundleThatFailsItsHealthCheckIsRolledBack() throws Exception {
        startAgent(3, null);
        // HostLocalAllocator gains a mandatory reference to a service nobody provides: active bundle, unsatisfied component.
        pack(1, variant("0.1.3", m -> { }, Map.of(), Map.of("OSGI-INF/io.patu.ipam.internal.HostLocalAllocator.xml",
                xml -> xml.replace("<implementation", "<reference name=\"missing\" interface=\"io.patu.ota.test.Missing\"/>\n  <implementation"))));
        AgentUnderTest.CniCall install = agent.shell("patu:ota install");
        assertNotEquals(0, install.exitCode());
        assertTrue(install.stdout().contains("rolled back") && install.stdout().contains("waits for a service it references"), install.stdout());
        assertRunsShippedIpam();
    }

    @Test
    void aBundleThatKillsTheJvmAtStartIsRolledBackByTheLauncher() throws Exception {
        startAgent(3, null);
        pack(1, variant("0.1.4", addActivator("Halting"), compileActivator("Halting", "Runtime.getRuntime().halt(3);"), Map.of()));
        agent.shell("patu:ota install");
        AgentUnderTest.await("the agent to die in the update", 30, () -> !agent.isAlive());
        assertTrue(state().contains("attempts=1\n"), state());
        assertEquals(3, agent.launchExpectingDeath(60), "start 2 of the candidate");
        assertTrue(state().contains("attempts=2\n"), state());
        assertEquals(3, agent.launchExpectingDeath(60), "start 3 of the candidate");
        assertTrue(state().contains("attempts=3\n"), state());
        agent.restart();
        assertFalse(state().contains("trial="), state());
        assertRunsShippedIpam();
        assertTrue(ota("history").contains("did not get through 3 starts"), ota("history"));
    }

    @Test
    void killNineAtEachStepLeavesExactlyOneCommittedRelease() throws Exception {
        startAgent(6, null);
        Path ota = agent.stateDir.resolve("ota");

        // In the health window: the restart tries the candidate again (start 2) and commits it.
        pack(1, variant("0.1.1", m -> { }, Map.of(), Map.of()));
        agent.gogo("patu:ota install");
        AgentUnderTest.await("the trial", 30, () -> state().contains("trial=1\n"));
        agent.kill9();
        // What a crash in staging leaves: a partial download and a stored jar no state names.
        Files.writeString(ota.resolve("staging/io.patu.ipam-9.jar.part"), "partial");
        Files.writeString(ota.resolve("store/ipam-9.9.9-0123456789ab.jar"), "orphan");
        agent.restart();
        assertTrue(state().contains("attempts=2\n") || state().contains("committed=1\n"), state());
        AgentUnderTest.await("the commit after the restart", 30, () -> state().contains("committed=1\n") && !state().contains("trial="));
        assertEquals("0.1.1", ipamVersion());
        assertFalse(Files.exists(ota.resolve("staging/io.patu.ipam-9.jar.part")), "stale staging removed at start");
        assertFalse(Files.exists(ota.resolve("store/ipam-9.9.9-0123456789ab.jar")), "unreferenced store jar removed at start");

        // Right after the commit: the committed release is what runs after the restart.
        pack(2, variant("0.1.5", m -> { }, Map.of(), Map.of()));
        agent.gogo("patu:ota install");
        AgentUnderTest.await("the commit of release 2", 30, () -> state().contains("committed=2\n"));
        agent.kill9();
        agent.restart();
        assertFalse(state().contains("trial="), state());
        assertEquals("0.1.5", ipamVersion());
        try (Stream<Path> jars = Files.list(ota.resolve("store"))) {
            // The committed jar and the one it replaced (for 'patu:ota rollback'), nothing else.
            assertEquals(2, jars.count());
        }
        try (TestPod p = new TestPod(agent, "p")) {
            assertTrue(p.address.getHostAddress().startsWith(agent.subnetPrefix));
        }
    }

    @Test
    void aFullDiskRefusesStagingCleanlyAndALaterRetrySucceeds() throws Exception {
        tmpfs = work.resolve("ota-state");
        Files.createDirectories(tmpfs);
        run("mount", "-t", "tmpfs", "-o", "size=512k", "po-ota-" + id, tmpfs.toString());
        startAgent(2, tmpfs);
        pack(1, variant("0.1.1", m -> { }, Map.of(), Map.of()));
        AgentUnderTest.CniCall refused = agent.shell("patu:ota install");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.stdout().contains("not enough free space"), refused.stdout());
        assertEquals(List.of(), list(tmpfs.resolve("ota/staging")));
        assertEquals(List.of(), list(tmpfs.resolve("ota/store")));
        assertRunsShippedIpam();

        run("mount", "-o", "remount,size=8m", tmpfs.toString());
        AgentUnderTest.CniCall retry = agent.shell("patu:ota install");
        assertEquals(0, retry.exitCode(), retry.stdout());
        assertEquals("0.1.1", ipamVersion());
        agent.stopAgent();
    }

    /**
     * A whole-agent release (api: other bundles import its packages, so it is not swapped in a running agent)
     * under a redirected stream: the agent stages it and restarts itself into the trial (its launcher execs
     * 'bin/patu run' again: same process), which commits after its window. The stream is never reset and stays
     * redirected, pods and leases are unchanged, CNI is served by the restarted agent; the release survives
     * another restart.
     */
    @Test
    void aWholeAgentReleaseRestartsTheAgentByItselfAndCommitsUnderRedirectedTraffic() throws Exception {
        startAgent(3, null);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            PacedStream stream = new PacedStream(a, b, 7104, 64L << 30);
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));
            String pods = agent.shell("patu:pods").stdout();
            String leases = agent.shell("patu:leases").stdout();
            long pid = agent.pid();

            pack(1, variant("api", "0.1.1", m -> { }, Map.of(), Map.of()));
            GapWatch watch = new GapWatch(stream, start);
            AgentUnderTest.CniCall install = agent.shell("patu:ota install");
            assertEquals(0, install.exitCode(), install.stdout());
            assertTrue(install.stdout().contains("release 1 staged") && install.stdout().contains("the agent restarts to run its trial"),
                    install.stdout());
            AgentUnderTest.await("the agent to restart itself and commit the release", 180,
                    () -> state().contains("committed=1\n") && !state().contains("trial="));
            watch.stop();
            System.out.printf("whole-agent release: %s%n", watch);
            assertTrue(agent.isAlive(), "the agent runs");
            assertEquals(pid, agent.pid(), "the same process, restarted in place");
            assertTrue(agent.output().contains("patu: the agent starts again"), agent.output());
            assertTrue(openDescriptorsOf(agent.pid(), "felix.jar") <= 1, "the new JVM inherited no descriptor of the old one");
            agent.awaitReady();
            assertEquals("0.1.1", bundleVersion("io.patu.api"));
            String status = ota("status");
            assertTrue(status.contains("release: 1") && status.matches("(?s).*api\\s+0\\.1\\.1\\s+release \\(api-0\\.1\\.1-.*"), status);
            String history = ota("history");
            assertTrue(history.contains("staged") && history.contains("restarting") && history.contains("committed"), history);
            assertFalse(history.contains("rolled back"), history);
            watch.assertNoGapOverOneSecond();
            assertEquals(pods, agent.shell("patu:pods").stdout(), "pod registry");
            assertEquals(leases, agent.shell("patu:leases").stdout(), "leases");
            try (TestPod c = new TestPod(agent, "c")) {
                assertTrue(c.address.getHostAddress().startsWith(agent.subnetPrefix), "CNI ADD served by the restarted agent");
            }
            long after = redirected(start);
            AgentUnderTest.await("redirection to go on", 20, () -> redirected(start) > after + (32 << 20));
            stream.assertIntact();
        }
        agent.stopAgent();
        agent.restart();
        agent.awaitReady();
        assertEquals("0.1.1", bundleVersion("io.patu.api"));
        assertTrue(state().contains("committed=1\n") && !state().contains("trial="), state());
    }

    /**
     * The same restart for an agent in the background ({@code bin/patu start}, as the demo runs it): the process
     * whose pid {@code agent.pid} holds restarts in place, so {@code bin/patu stop} still stops the agent.
     */
    @Test
    void aWholeAgentReleaseRestartsABackgroundAgentInPlace() throws Exception {
        startAgent(3, null);
        agent.stopAgent();
        Path pidFile = agent.stateDir.resolve("agent.pid");
        try {
            launcher("start");
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            agent.awaitReady();
            pack(1, variant("api", "0.1.1", m -> { }, Map.of(), Map.of()));
            AgentUnderTest.CniCall install = agent.shell("patu:ota install");
            assertEquals(0, install.exitCode(), install.stdout());
            AgentUnderTest.await("the agent to restart itself and commit the release", 180,
                    () -> state().contains("committed=1\n") && !state().contains("trial="));
            agent.awaitReady();
            assertEquals("0.1.1", bundleVersion("io.patu.api"));
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the agent of agent.pid runs");
            assertEquals(pid, Long.parseLong(Files.readString(pidFile).strip()));
            assertTrue(Files.readString(agent.stateDir.resolve("agent.log")).contains("patu: the agent starts again"));
            launcher("stop");
            AgentUnderTest.await("bin/patu stop to stop the restarted agent", 30, () -> ProcessHandle.of(pid).isEmpty());
        } finally {
            if (Files.exists(pidFile)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** {@code bin/patu COMMAND --config} with this agent's configuration, without the AOT cache (no training run). */
    private void launcher(String command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(DIST.resolve("bin/patu").toString(), command, "--config",
                agent.config.toString()).redirectErrorStream(true);
        builder.environment().put("PATU_AOT", "off");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/patu " + command);
        assertEquals(0, p.exitValue(), "bin/patu " + command + ":\n" + out);
    }

    /**
     * A bad whole-agent release (an api whose activator throws): the agent restarts into the trial, the health
     * window finds api not active, the release is rolled back and the agent restarts itself again into the
     * committed api. Nobody but the agent restarts it.
     */
    @Test
    void aBadWholeAgentReleaseIsRolledBackByTheAgentItself() throws Exception {
        startAgent(3, null);
        long pid = agent.pid();
        pack(1, variant("api", "0.1.2", addActivator("Throwing"),
                compileActivator("Throwing", "throw new IllegalStateException(\"broken on purpose\");"), Map.of()));
        AgentUnderTest.CniCall install = agent.shell("patu:ota install");
        assertEquals(0, install.exitCode(), install.stdout());
        AgentUnderTest.await("the rollback", 180, () -> ota("history").contains("rolled back"));
        AgentUnderTest.await("the restart into the committed api", 180, () -> {
            String history = ota("history");
            return history.lines().filter(l -> l.contains("restarting")).count() == 2;
        });
        AgentUnderTest.await("the agent to be back on the shipped api", 180, () -> {
            String lb = agent.shell("lb -s").stdout();
            return lb.contains("io.patu.api (0.1.0.SNAPSHOT)") && lb.lines().anyMatch(l -> l.contains("io.patu.api (") && l.contains("Active"));
        });
        agent.awaitReady();
        assertEquals(pid, agent.pid(), "the same process, restarted in place twice");
        assertFalse(state().contains("trial="), state());
        assertFalse(state().contains("committed=1"), state());
        assertTrue(ota("history").contains("io.patu.api is not active"), ota("history"));
        assertRunsShippedIpam();
    }

    /**
     * kill -9 (Runtime.halt through the test hook patu.ota.haltAt) at the instants between the other tests'
     * kills: after staging, before the state names the jars; after the bundle stopped, before its update;
     * inside Bundle.update; after the update, before the new revision starts. After the restart there is
     * exactly one committed release (the old one, or the new one after its trial), the store holds only the
     * jars the state names, and the agent works.
     */
    @Test
    void killNineAtTheExactStepsOfAnUpdateLeavesExactlyOneCommittedRelease() throws Exception {
        startAgent(3, null);
        Path ota = agent.stateDir.resolve("ota");
        long sequence = 0;
        String committedVersion = "0.1.0.SNAPSHOT";
        for (String step : List.of("staged", "stopped", "updating", "updated")) {
            sequence++;
            String version = "0.1." + (10 + sequence);
            pack(sequence, variant(version, m -> { }, Map.of(), Map.of()));
            agent.environment.put("PATU_JVM_OPTS", "-Dpatu.ota.haltAt=" + step);
            agent.stopAgent();
            agent.restart();
            agent.awaitReady();
            agent.gogo("patu:ota install");
            AgentUnderTest.await("the agent to halt at step " + step, 60, () -> !agent.isAlive());
            assertEquals(137, agent.exitValue(), "halted by the hook at " + step + ":\n" + agent.output());
            String halted = state();
            agent.environment.remove("PATU_JVM_OPTS");
            agent.restart();
            agent.awaitReady();
            if (step.equals("staged")) {
                assertFalse(halted.contains("trial="), "halted before the state write: " + halted);
                assertFalse(state().contains("trial="), state());
                assertEquals(committedVersion, ipamVersion(), "the old release runs");
                assertStoreHoldsWhatTheStateNames(ota);
                // A later retry commits.
                AgentUnderTest.CniCall retry = agent.shell("patu:ota install");
                assertEquals(0, retry.exitCode(), retry.stdout());
            } else {
                assertTrue(halted.contains("trial=" + sequence + "\n"), "halted during the trial: " + halted);
                long expected = sequence;
                AgentUnderTest.await("the commit after the restart (" + step + ")", 60,
                        () -> state().contains("committed=" + expected + "\n") && !state().contains("trial="));
            }
            committedVersion = version;
            assertTrue(state().contains("committed=" + sequence + "\n") && !state().contains("trial="), state());
            assertEquals(version, ipamVersion(), "after a kill at " + step);
            assertStoreHoldsWhatTheStateNames(ota);
            try (TestPod p = new TestPod(agent, "k" + sequence)) {
                assertTrue(p.address.getHostAddress().startsWith(agent.subnetPrefix), "IPAM allocates after a kill at " + step);
            }
            System.out.printf("kill at %s: %s%n", step, state().replace('\n', ' '));
        }
    }

    /** The store holds exactly the jars the state names: no orphan of a crash, nothing the state misses. */
    private void assertStoreHoldsWhatTheStateNames(Path ota) throws IOException {
        String state = state();
        List<Path> stored = list(ota.resolve("store"));
        for (Path jar : stored) {
            assertTrue(state.contains("=" + jar + "\n"), jar + " is not named by the state:\n" + state);
        }
        for (String line : state.lines().toList()) {
            if (line.startsWith("current.") || line.startsWith("previous.") || line.startsWith("trial.")) {
                assertTrue(Files.isRegularFile(Path.of(line.substring(line.indexOf('=') + 1))), line);
            }
        }
    }

    /**
     * A datapath-sockmap release whose pinned map layout changed (conn_state holds half the entries), under a
     * redirected stream: the new revision cannot adopt the pins, and recreates the maps deliberately (logged;
     * docs/ota.md "Map layout changes"). The stream is not reset and its bytes go on arriving intact; new
     * connections are redirected by the new maps; the release commits. The rollback recreates them the same
     * way back.
     */
    @Test
    void aSockmapReleaseWithAnotherMapLayoutRecreatesTheMapsAndBreaksNoConnection() throws Exception {
        startAgent(3, null);
        byte[] otherLayout = sockmapObject(source -> {
            String shipped = "__uint(max_entries, PATU_MAX_SOCKETS);\n\t__type(key, struct patu_sock_key);\n\t__type(value, struct patu_conn_state);";
            assertTrue(source.contains(shipped), "conn_state as the test knows it");
            return source.replace(shipped, shipped.replace("PATU_MAX_SOCKETS", "PATU_MAX_SOCKETS / 2"));
        });
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            Process server = stream(a, "server", a.address.getHostAddress(), "7105");
            BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", serverOut.readLine());
            Process client = stream(b, "client", a.address.getHostAddress(), "7105",
                    Long.toString(64L << 30), "65536");
            long[] start = agent.sockmapCounters();
            AgentUnderTest.await("redirected traffic", 20, () -> redirected(start) > (32 << 20));

            pack(1, variant("datapath-sockmap", "0.1.1", m -> { }, Map.of("bpf/sockmap.bpf.o", otherLayout), Map.of()));
            long beforeUpdate = redirected(start);
            long plainBefore = bytesReceived(a, 7105);
            AgentUnderTest.CniCall install = agent.shell("patu:ota install");
            assertEquals(0, install.exitCode(), install.stdout());
            assertTrue(install.stdout().contains("release 1 committed"), install.stdout());
            assertEquals("0.1.1", bundleVersion("io.patu.datapath-sockmap"));
            awaitLogged("the new revision to say it recreated the maps", 1, "do not match this datapath");

            // New connections are redirected by the new maps (the stats map is new too: counted from here).
            long[] recreated = agent.sockmapCounters();
            Process server2 = stream(a, "server", a.address.getHostAddress(), "7106");
            BufferedReader server2Out = new BufferedReader(new InputStreamReader(server2.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", server2Out.readLine());
            Process client2 = stream(b, "client", a.address.getHostAddress(), "7106",
                    Long.toString(64L << 20), "65536");
            assertTrue(server2.waitFor(120, TimeUnit.SECONDS), "the new connection's stream ended");
            String verdict2 = server2Out.readLine();
            assertTrue(verdict2 != null && verdict2.equals("OK " + (64L << 20)), "new connection: " + verdict2);
            client2.waitFor(30, TimeUnit.SECONDS);
            long newRedirected = agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - recreated[AgentUnderTest.BYTES_REDIRECTED];
            // Only the new revision's programs count into the new stats map: any growth is the new connection's.
            assertTrue(newRedirected >= (1L << 20), "the new connection is redirected by the new maps: " + newRedirected + " bytes");

            AgentUnderTest.CniCall back = agent.shell("patu:ota rollback");
            assertEquals(0, back.exitCode(), back.stdout());
            assertEquals("0.1.0.SNAPSHOT", bundleVersion("io.patu.datapath-sockmap"));
            awaitLogged("the rollback to recreate them back", 2, "do not match this datapath");
            long plainAfter = bytesReceived(a, 7105);

            assertTrue(client.isAlive(), "the first stream outlived the update and the rollback");
            client.destroy();
            client.waitFor(30, TimeUnit.SECONDS);
            assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            String verdict = serverOut.readLine();
            assertTrue(verdict != null && verdict.startsWith("OK "), "no reset, no corruption (stream cut by the test): " + verdict);
            long delivered = Long.parseLong(verdict.substring(3).strip());
            System.out.printf("layout change: %d bytes redirected before the update, %d delivered in all; "
                    + "bytes through the TCP receive path during update+rollback: %d; a new connection's 64 MiB: %d redirected%n",
                    beforeUpdate, delivered, plainAfter - plainBefore, newRedirected);
            assertTrue(delivered > beforeUpdate + (16 << 20), "the old connection went on after the update: " + delivered
                    + " bytes delivered, " + beforeUpdate + " redirected before it");
        }
    }

    /** bpf/sockmap.bpf.c as {@code edit} changes it, compiled as bpf/Makefile compiles it. */
    private byte[] sockmapObject(UnaryOperator<String> edit) throws Exception {
        Path repo = Path.of(System.getProperty("patu.repo", ".."));
        Path src = work.resolve("bpf/sockmap.bpf.c");
        Files.createDirectories(src.getParent());
        Files.writeString(src, edit.apply(Files.readString(repo.resolve("bpf/sockmap.bpf.c"))));
        Path object = work.resolve("bpf/sockmap.bpf.o");
        run("clang", "-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-I/usr/include/x86_64-linux-gnu",
                "-I" + repo.resolve("bpf/include"), "-I" + repo.resolve("bpf"), "-c", src.toString(), "-o", object.toString());
        return Files.readAllBytes(object);
    }

    /** TCP's bytes_received of the pod's connection on local {@code port}: bytes that came through the TCP stack, not redirected ones. */
    private static long bytesReceived(TestPod pod, int port) throws Exception {
        Process ss = new ProcessBuilder("ip", "netns", "exec", pod.name, "ss", "-tinH", "state", "established",
                "( sport = :" + port + " )").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor(30, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("bytes_received:(\\d+)").matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** How many of the process's open descriptors name a file whose path contains {@code part}. */
    private static long openDescriptorsOf(long pid, String part) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().contains(part);
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    /** The agent's output is read by another thread: a line logged a moment ago may not be there yet. */
    private void awaitLogged(String what, int times, String line) {
        try {
            AgentUnderTest.await(what, 20, () -> occurrences(agent.output(), line) >= times);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; the agent's output:\n" + agent.output(), e);
        }
        assertEquals(times, occurrences(agent.output(), line), agent.output());
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            count++;
        }
        return count;
    }

    /**
     * Over HTTP from a real nginx that serves slowly: kill -9 while the download is half done leaves a partial
     * file that the next start removes, no trial and no release; the retry then downloads, verifies, commits.
     */
    @Test
    void killNineInAHalfDoneHttpDownloadLeavesTheOldReleaseAndARetryCommits() throws Exception {
        Files.createDirectories(work);
        try (NginxServer nginx = new NginxServer(work.resolve("www"), work.resolve("nginx"), "4k")) {
            startAgent(2, null, nginx.url("release"));
            Path staging = agent.stateDir.resolve("ota/staging");
            releasesDir(work.resolve("www/release"));
            pack(1, variant("0.1.1", m -> { }, Map.of(), Map.of()));
            agent.gogo("patu:ota install");
            AgentUnderTest.await("the download to be under way", 30, () -> {
                try {
                    return list(staging).stream().anyMatch(f -> f.toString().endsWith(".part") && f.toFile().length() > 0);
                } catch (IOException e) {
                    return false;
                }
            });
            agent.kill9();
            Path part = list(staging).get(0);
            long partial = Files.size(part);
            agent.restart();
            // The ota feature starts a moment after the CNI socket answers.
            agent.awaitReady();
            assertFalse(Files.exists(part), "the partial download (" + partial + " bytes) is removed at start");
            assertFalse(state().contains("trial="), state());
            assertRunsShippedIpam();

            AgentUnderTest.CniCall retry = agent.shell("patu:ota install");
            assertEquals(0, retry.exitCode(), retry.stdout());
            assertTrue(retry.stdout().contains("release 1 committed"), retry.stdout());
            assertEquals("0.1.1", ipamVersion());
            System.out.printf("http: killed with %d bytes of %d downloaded; the retry committed%n", partial,
                    Files.size(work.resolve("www/release").resolve("io.patu.ipam-0.1.1.jar")));
        }
    }

    /**
     * The power cut of a manual installation: bundle/ holds a jar in two versions, the newer one cut short.
     * The launcher picks the newest complete jar instead of refusing to start (seen through 'stop', which
     * resolves the profile's jars the same way as 'run' before it finds no agent to stop).
     */
    @Test
    void twoVersionsOfAJarInBundleDoNotStopTheLauncher() throws Exception {
        Path home = work.resolve("home");
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("profiles"));
        Files.createDirectories(home.resolve("bundle"));
        Files.createDirectories(home.resolve("conf"));
        Files.copy(DIST.resolve("bin/patu"), home.resolve("bin/patu"));
        Files.writeString(home.resolve("profiles/full.profile"), "bundle ipam\n");
        Files.writeString(home.resolve("conf/patu.json"), "{\"io.patu.lifecycle\": {\"stateDir\": \"" + work.resolve("state") + "\"}}");
        Path shipped = variant("0.1.0", m -> { }, Map.of(), Map.of());
        Files.copy(shipped, home.resolve("bundle/ipam-0.1.0.jar"));
        byte[] newer = Files.readAllBytes(variant("0.2.0", m -> { }, Map.of(), Map.of()));
        Files.write(home.resolve("bundle/ipam-0.2.0.jar"), java.util.Arrays.copyOf(newer, newer.length / 2));
        Process stop = new ProcessBuilder(home.resolve("bin/patu").toString(), "stop").redirectErrorStream(true).start();
        String out = new String(stop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        stop.waitFor(30, TimeUnit.SECONDS);
        assertTrue(out.contains("bundle 'ipam' is there in several versions") && out.contains("using ipam-0.1.0.jar"), out);
        assertTrue(out.contains("no agent started by 'patu start'"), "got past the jars: " + out);
    }

    // --- The agent, the releases ---------------------------------------------------------------------------

    private void startAgent(int healthWindowSeconds, Path otaStateDir) throws Exception {
        startAgent(healthWindowSeconds, otaStateDir, releases.toString());
    }

    private void startAgent(int healthWindowSeconds, Path otaStateDir, String source) throws Exception {
        Files.createDirectories(work);
        run(DIST.resolve("bin/patu").toString(), "ota", "keygen", "--out", work.resolve("key").toString());
        Map<String, Object> ota = new LinkedHashMap<>();
        ota.put("trustedKeys", List.of(Files.readString(work.resolve("key.pub")).strip()));
        ota.put("source", source);
        ota.put("pollSeconds", 0);
        ota.put("healthWindowSeconds", healthWindowSeconds);
        if (otaStateDir != null) {
            ota.put("stateDir", otaStateDir.toString());
        }
        agent = new AgentUnderTest(Map.of("io.patu.ota", ota));
    }

    private void releasesDir(Path dir) {
        releases = dir;
    }

    /** Signs a release of {@code jar} into the source directory with 'bin/patu ota pack' (replacing the last). */
    private void pack(long sequence, Path jar) throws Exception {
        AgentUnderTest.deleteTree(releases);
        run(DIST.resolve("bin/patu").toString(), "ota", "pack", "--key", work.resolve("key.key").toString(),
                "--sequence", Long.toString(sequence), "--out", releases.toString(), jar.toString());
    }

    /** The shipped ipam jar as another version, with manifest edits, added (or replaced) entries and edited text entries. */
    private Path variant(String version, java.util.function.Consumer<Manifest> editManifest, Map<String, byte[]> add,
            Map<String, UnaryOperator<String>> edit) throws IOException {
        return variant("ipam", version, editManifest, add, edit);
    }

    private Path variant(String bundle, String version, java.util.function.Consumer<Manifest> editManifest,
            Map<String, byte[]> add, Map<String, UnaryOperator<String>> edit) throws IOException {
        Path shipped;
        try (Stream<Path> jars = Files.list(DIST.resolve("bundle"))) {
            shipped = jars.filter(p -> p.getFileName().toString().matches(Pattern.quote(bundle) + "-[0-9].*\\.jar")).findFirst().orElseThrow();
        }
        Path out = work.resolve("build/" + bundle + "-" + version + ".jar");
        Files.createDirectories(out.getParent());
        // An entry of the shipped jar that 'add' names is replaced; the others are added.
        Map<String, byte[]> replaced = new LinkedHashMap<>(add);
        try (JarFile in = new JarFile(shipped.toFile())) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            editManifest.accept(manifest);
            try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(out), manifest)) {
                for (JarEntry entry : java.util.Collections.list(in.entries())) {
                    if (entry.getName().equals(JarFile.MANIFEST_NAME)) {
                        continue;
                    }
                    byte[] bytes;
                    try (InputStream entryIn = in.getInputStream(entry)) {
                        bytes = entryIn.readAllBytes();
                    }
                    if (replaced.containsKey(entry.getName())) {
                        bytes = replaced.remove(entry.getName());
                    }
                    if (edit.containsKey(entry.getName())) {
                        bytes = edit.get(entry.getName()).apply(new String(bytes, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                    }
                    jar.putNextEntry(new JarEntry(entry.getName()));
                    jar.write(bytes);
                    jar.closeEntry();
                }
                for (Map.Entry<String, byte[]> extra : replaced.entrySet()) {
                    jar.putNextEntry(new JarEntry(extra.getKey()));
                    jar.write(extra.getValue());
                    jar.closeEntry();
                }
            }
        }
        return out;
    }

    private static java.util.function.Consumer<Manifest> addActivator(String simpleName) {
        return manifest -> {
            Attributes main = manifest.getMainAttributes();
            main.putValue("Bundle-Activator", "io.patu.otatest." + simpleName);
            main.putValue("Import-Package", main.getValue("Import-Package") + ",org.osgi.framework");
            main.putValue("Private-Package", main.getValue("Private-Package") + ",io.patu.otatest");
        };
    }

    /** A bundle activator whose start() runs {@code startBody}, compiled against the distribution's Felix. */
    private Map<String, byte[]> compileActivator(String simpleName, String startBody) throws IOException {
        Path src = work.resolve("src/io/patu/otatest/" + simpleName + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package io.patu.otatest;
                public final class %s implements org.osgi.framework.BundleActivator {
                    public void start(org.osgi.framework.BundleContext context) { %s }
                    public void stop(org.osgi.framework.BundleContext context) { }
                }
                """.formatted(simpleName, startBody));
        Path classes = work.resolve("classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, "--release", "22", "-cp", DIST.resolve("lib/felix.jar").toString(),
                "-d", classes.toString(), src.toString());
        assertEquals(0, rc, errors.toString());
        String entry = "io/patu/otatest/" + simpleName + ".class";
        return Map.of(entry, Files.readAllBytes(classes.resolve(entry)));
    }

    // --- Observations ---------------------------------------------------------------------------------------

    private long redirected(long[] start) {
        return agent.sockmapCounters()[AgentUnderTest.BYTES_REDIRECTED] - start[AgentUnderTest.BYTES_REDIRECTED];
    }

    private String ipamVersion() {
        return bundleVersion("io.patu.ipam");
    }

    /** The version of an active bundle, from 'lb -s' through the remote shell. */
    private String bundleVersion(String symbolicName) {
        String lb = agent.shell("lb -s").stdout();
        Matcher m = Pattern.compile(Pattern.quote(symbolicName) + " \\(([^)]+)\\)").matcher(lb);
        assertTrue(m.find(), lb);
        assertTrue(lb.lines().anyMatch(l -> l.contains(symbolicName + " (") && l.contains("Active")), symbolicName + " active:\n" + lb);
        return m.group(1);
    }

    private void assertRunsShippedIpam() throws Exception {
        assertEquals("0.1.0.SNAPSHOT", ipamVersion());
        try (TestPod p = new TestPod(agent, "after")) {
            assertTrue(p.address.getHostAddress().startsWith(agent.subnetPrefix), "IPAM still allocates");
        }
    }

    private String ota(String action) {
        return agent.shell("patu:ota " + action).stdout();
    }

    private String state() {
        Path dir = tmpfs != null ? tmpfs.resolve("ota") : agent.stateDir.resolve("ota");
        try {
            return Files.readString(dir.resolve("state"));
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
    }
}
