package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;

/**
 * The packet datapath in the assembled agent: pods networked through the CNI plugin talk through tcx
 * delivery, {@code patu:features} and {@code patu:xdp} show it, and switching it off and on under traffic
 * loses nothing and leaks nothing.
 */
class XdpDatapathIT extends WithAgent {

    private Path pins() {
        return agent.bpffsDir.resolve("xdp");
    }

    private static int ifindex(String device) {
        try (RtNetlink host = RtNetlink.open()) {
            return host.link(device).orElseThrow().index();
        }
    }

    private static long txPackets(String device) {
        try (RtNetlink host = RtNetlink.open()) {
            return host.link(device).orElseThrow().txPackets();
        }
    }

    /** delivered_packets of a pod, summed over CPUs, from the pinned map. */
    private long delivered(TestPod pod) {
        try (BpfMap counters = BpfMap.openPinned(pins().resolve("pod_counters"))) {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(ifindex(pod.hostVeth)).array();
            return counters.lookup(key).map(v -> AgentUnderTest.sumPerCpu(v, 3)[0]).orElse(0L);
        }
    }

    @Test
    void podsTalkThroughTcxDeliveryAndTheOperatorSeesIt() throws Exception {
        String features = agent.shell("patu:features").stdout();
        assertTrue(features.lines().anyMatch(l -> l.startsWith("xdp") && l.contains("active")), features);
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            udp(a, b, 7500, 3); // neighbours
            long tx = txPackets(b.hostVeth);
            long before = delivered(a);
            assertEquals(1000, udp(a, b, 7501, 1000), "every datagram arrived");
            assertTrue(delivered(a) - before >= 1000, "delivered by tcx: " + (delivered(a) - before));
            assertTrue(txPackets(b.hostVeth) - tx <= 10, "frames the bridge forwarded to b: " + (txPackets(b.hostVeth) - tx));
            String view = agent.shell("patu:xdp").stdout();
            assertTrue(view.contains(a.hostVeth) && view.contains(b.hostVeth) && view.contains("link_pod_"), view);
            assertTrue(view.contains("ingress devices: none"), view);
        }
        assertTrue(Files.list(pins()).noneMatch(p -> p.getFileName().toString().startsWith("link_pod_")),
                "DEL removed the pods' links");
    }

    @Test
    void fiftyDisableEnableCyclesUnderUdpAndTcpLoseNothingAndLeakNothing() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            String heldBefore = agent.heldBpfObjects();
            int programsBefore = patuPrograms();
            Process manyServer = PodTraffic.streamCheck(agent, a, "serve-many", a.address.getHostAddress(), "7502");
            BufferedReader verdicts = new BufferedReader(new InputStreamReader(manyServer.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", verdicts.readLine());
            Process manyClient = PodTraffic.streamCheck(agent, b, "send-many", a.address.getHostAddress(), "7502",
                    Integer.toString(64 << 10), "4096");
            // Verdicts are read as they come: a server blocked on a full stdout pipe would stall the client.
            AtomicLong intact = new AtomicLong();
            java.util.concurrent.atomic.AtomicReference<String> broken = new java.util.concurrent.atomic.AtomicReference<>();
            // Own threads: the common pool may have a single worker on a small machine.
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
            CompletableFuture.runAsync(() -> {
                try {
                    for (String line; (line = verdicts.readLine()) != null; ) {
                        if (line.equals("OK " + (64 << 10))) {
                            intact.incrementAndGet();
                        } else {
                            broken.compareAndSet(null, "after " + intact.get() + " intact: " + line);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the server was ended
                }
            }, threads);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            AtomicLong received = new AtomicLong();
            CompletableFuture<Void> udp = CompletableFuture.runAsync(() -> udpFlow(b, a, 7503, running, sent, received),
                    threads);
            try {
                for (int cycle = 0; cycle < 50; cycle++) {
                    AgentUnderTest.assertExit(0, agent.shell("patu:disable xdp"));
                    AgentUnderTest.await("pins removed (cycle " + cycle + ")", 20, () -> !Files.exists(pins()));
                    AgentUnderTest.assertExit(0, agent.shell("patu:enable xdp"));
                    AgentUnderTest.await("pods replayed (cycle " + cycle + ")", 20, () -> Files.exists(
                            pins().resolve("link_pod_" + ifindex(a.hostVeth))) && Files.exists(
                            pins().resolve("link_pod_" + ifindex(b.hostVeth))));
                }
            } finally {
                running.set(false);
                manyClient.getOutputStream().close();
            }
            udp.get(30, TimeUnit.SECONDS);
            threads.shutdown();
            assertTrue(manyClient.waitFor(60, TimeUnit.SECONDS), "the connection loop ended");
            String out = new String(manyClient.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(out.startsWith("SENT "), "every new connection succeeded: " + out);
            int connections = Integer.parseInt(out.substring("SENT ".length()));
            AgentUnderTest.await("the server's verdicts", 30, () -> intact.get() >= connections || broken.get() != null);
            manyServer.destroy();
            manyServer.waitFor(30, TimeUnit.SECONDS);
            assertEquals(null, broken.get(), "a connection's bytes did not arrive intact");
            System.out.printf("50 xdp cycles: %d TCP connections verified, UDP %d of %d datagrams, bpf objects %s -> %s%n",
                    connections, received.get(), sent.get(), heldBefore, agent.heldBpfObjects());
            assertTrue(connections >= 50, "new connections kept flowing through the cycles: " + connections);
            assertTrue(sent.get() >= 1000, "UDP kept flowing: " + sent.get());
            assertEquals(sent.get(), received.get(), "no datagram lost through 50 cycles");
            assertEquals(heldBefore, agent.heldBpfObjects(), "bpf objects held by the agent after 50 cycles");
            assertEquals(programsBefore, patuPrograms(), "datapath programs loaded in the kernel after 50 cycles");
        }
    }

    @Test
    void aVethDeletedUnderTheDatapathLeavesTheAgentHealthy() throws Exception {
        try (TestPod a = new TestPod(agent, "a"); TestPod b = new TestPod(agent, "b")) {
            int gone = ifindex(b.hostVeth);
            try (RtNetlink host = RtNetlink.open()) {
                host.deleteLink(b.hostVeth); // the runtime or an operator removed it behind the agent's back
            }
            AgentUnderTest.assertExit(0, b.del());
            assertTrue(!Files.exists(pins().resolve("link_pod_" + gone)), "its link pin went with DEL");
            try (TestPod c = new TestPod(agent, "c")) {
                udp(a, c, 7504, 3);
                long before = delivered(a);
                assertEquals(500, udp(a, c, 7505, 500), "a new pod is reached");
                assertTrue(delivered(a) - before >= 500, "through tcx delivery");
            }
            String view = agent.shell("patu:xdp").stdout();
            assertTrue(view.contains(a.hostVeth) && !view.contains(b.hostVeth), view);
        }
    }

    /** The kernel's count of this datapath's programs (their names cut to 15 characters by the kernel). */
    private static int patuPrograms() {
        String list = Commands.check("bpftool", "prog", "show");
        return (int) list.lines().filter(l -> l.contains("name patu_tcx_delive") || l.contains("name patu_xdp_ingres")).count();
    }

    /** Datagrams sent until {@code running} is cleared, in paced batches so no receive queue overflows. */
    private static void udpFlow(TestPod from, TestPod to, int port, AtomicBoolean running, AtomicLong sent,
            AtomicLong received) {
        try (DatagramSocket receiver = NetNs.callIn(to.netns, () -> new DatagramSocket(new InetSocketAddress(to.address, port)));
                DatagramSocket sender = NetNs.callIn(from.netns, DatagramSocket::new)) {
            receiver.setSoTimeout(2000);
            byte[] payload = new byte[64];
            byte[] buffer = new byte[2048];
            while (running.get()) {
                for (int i = 0; i < 50; i++) {
                    sender.send(new DatagramPacket(payload, payload.length, to.address, port));
                    sent.incrementAndGet();
                }
                try {
                    while (received.get() < sent.get()) {
                        receiver.receive(new DatagramPacket(buffer, buffer.length));
                        received.incrementAndGet();
                    }
                } catch (SocketTimeoutException e) {
                    return; // lost: the assertion on the counts says how many
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int udp(TestPod from, TestPod to, int port, int count) throws Exception {
        AtomicLong sent = new AtomicLong();
        AtomicLong received = new AtomicLong();
        try (DatagramSocket receiver = NetNs.callIn(to.netns, () -> new DatagramSocket(new InetSocketAddress(to.address, port)));
                DatagramSocket sender = NetNs.callIn(from.netns, DatagramSocket::new)) {
            receiver.setSoTimeout(2000);
            byte[] buffer = new byte[2048];
            for (int i = 0; i < count; i++) {
                sender.send(new DatagramPacket(new byte[64], 64, to.address, port));
                sent.incrementAndGet();
                if (sent.get() % 50 == 0 || i == count - 1) {
                    try {
                        while (received.get() < sent.get()) {
                            receiver.receive(new DatagramPacket(buffer, buffer.length));
                            received.incrementAndGet();
                        }
                    } catch (SocketTimeoutException e) {
                        return (int) received.get();
                    }
                }
            }
        }
        return (int) received.get();
    }
}
