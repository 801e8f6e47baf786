package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.kernel.bpf.AttachType;
import io.patu.kernel.bpf.BpfLink;
import io.patu.kernel.bpf.BpfMap;
import io.patu.kernel.bpf.BpfObject;
import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The policy datapath on the real kernel: three pods (network namespaces) on a bridge, the programs on their
 * host veths, policies written through {@link PolicyDatapath#apply}, and real TCP and UDP between them.
 */
@KernelTest
class PolicyDatapathKernelTest {
    private static final int TCP = 6;
    private static final int UDP = 17;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private NetnsPods net;
    private Path bpffs;
    private PolicyDatapath datapath;
    private Pod a;
    private Pod b;
    private Pod c;
    private long generation;

    static PolicyDatapath.Config config(Path bpffsDir) {
        return new PolicyDatapath.Config() {
            @Override
            public String bpffsDir() {
                return bpffsDir.toString();
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return PolicyDatapath.Config.class;
            }
        };
    }

    @BeforeEach
    void createPodsAndDatapath() {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
        bpffs = Bpffs.DEFAULT_MOUNT.resolve(TestNames.unique("pd-", 8));
        Bpffs.createPinDir(bpffs);
        net = new NetnsPods();
        a = net.pod(2);
        b = net.pod(3);
        c = net.pod(4);
        datapath = new PolicyDatapath(config(bpffs));
        for (Pod pod : List.of(a, b, c)) {
            datapath.podAdded(pod);
        }
    }

    @AfterEach
    void removeEverything() throws Exception {
        for (AutoCloseable resource : closing.reversed()) {
            try {
                resource.close();
            } catch (IOException ignored) {
                // reset sockets
            }
        }
        try {
            if (datapath != null) {
                datapath.removeAll();
            }
        } finally {
            net.close();
            Bpffs.removePinDir(bpffs);
        }
        assertFalse(Files.exists(bpffs), "every pin removed");
    }

    private <T extends AutoCloseable> T track(T resource) {
        closing.add(resource);
        return resource;
    }

    // ---- policies ----

    static PeerRule peer(InetAddress address, int prefixLength, PortRange... ports) {
        return new PeerRule(address, prefixLength, List.of(ports));
    }

    /** b isolated for ingress with {@code rules}; a and c selected by nothing. */
    private CompiledPolicy bIngress(List<PeerRule> rules) {
        Map<Integer, PodRules> pods = new HashMap<>();
        for (Pod pod : List.of(a, b, c)) {
            boolean isB = pod == b;
            pods.put(pod.hostIfIndex(), new PodRules(pod.hostIfIndex(), addresses(pod), isB, false,
                    isB ? rules : List.of(), List.of()));
        }
        return new CompiledPolicy(++generation, pods);
    }

    /** a may reach b on TCP 80 and UDP 81, both families. */
    private CompiledPolicy aToB80() {
        return bIngress(List.of(
                peer(a.addresses().get(0).address(), 32, new PortRange(TCP, 80, 80), new PortRange(UDP, 81, 81)),
                peer(a.addresses().get(1).address(), 128, new PortRange(TCP, 80, 80), new PortRange(UDP, 81, 81))));
    }

    private static List<InetAddress> addresses(Pod pod) {
        return pod.addresses().stream().map(PodAddress::address).toList();
    }

    private InetAddress v4(Pod pod) {
        return pod.addresses().get(0).address();
    }

    private InetAddress v6(Pod pod) {
        return pod.addresses().get(1).address();
    }

    private PolicyDatapath.PodCounters counters(Pod pod) {
        return datapath.counters().stream().filter(x -> x.hostIfIndex() == pod.hostIfIndex()).findFirst().orElseThrow();
    }

    /** Echoes every byte back on each accepted connection, on daemon threads. */
    private ServerSocket echoServer(Pod pod, int port) throws Exception {
        ServerSocket server = track(NetnsPods.listen(pod, port));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket accepted = server.accept();
                    track(accepted);
                    Thread echo = new Thread(() -> {
                        try (InputStream in = accepted.getInputStream(); OutputStream out = accepted.getOutputStream()) {
                            byte[] buffer = new byte[4096];
                            int n;
                            while ((n = in.read(buffer)) > 0) {
                                out.write(buffer, 0, n);
                            }
                        } catch (IOException ignored) {
                            // reset by policy, or closed by the test
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    private static void roundTrip(Socket socket, byte value) throws IOException {
        socket.getOutputStream().write(value);
        int echoed = socket.getInputStream().read();
        assertEquals(value & 0xff, echoed, "echo");
    }

    // ---- tests ----

    @Test
    void allowedTcpWorksWithItsRepliesDeniedTcpFailsBothFamiliesNodeAlwaysAllowedCounted() throws Exception {
        echoServer(b, 80);
        echoServer(b, 81);
        assertFalse(NetnsPods.canConnect(c, v4(b), 80), "hooked, no policy written yet: new connections wait");
        datapath.apply(bIngress(List.of(peer(v4(c), 32, PortRange.EVERYTHING)))); // b admits c only
        assertTrue(NetnsPods.canConnect(c, v4(b), 80), "the first policy is in force");
        datapath.apply(aToB80());

        Socket allowed = track(NetnsPods.connect(a, v4(b), 80, 1000));
        allowed.setSoTimeout(2000);
        roundTrip(allowed, (byte) 7); // replies of an allowed connection pass b's ingress isolation
        assertFalse(NetnsPods.canConnect(c, v4(b), 80), "c is not in b's ingress rules");
        assertFalse(NetnsPods.canConnect(a, v4(b), 81), "a may use port 80 only");
        assertTrue(NetnsPods.canConnect(a, v6(b), 80), "IPv6 rule");
        assertFalse(NetnsPods.canConnect(c, v6(b), 80), "IPv6 deny");
        // The node reaches every pod, whatever its policy.
        try (Socket fromNode = new Socket()) {
            fromNode.connect(new InetSocketAddress(v4(b), 81), 1000);
        }

        PolicyDatapath.PodCounters bCounters = counters(b);
        assertTrue(bCounters.ingressDenied() >= 3, "c's and a's denied SYNs are b's ingress denials: " + bCounters);
        assertTrue(bCounters.ingressAllowed() > 0, bCounters.toString());
        assertTrue(counters(a).egressAllowed() > 0, counters(a).toString());
        assertEquals(0, counters(c).ingressDenied() + counters(c).egressDenied(), "c's own rules denied nothing");
    }

    @Test
    void udpFollowsProtocolAndPort() throws Exception {
        datapath.apply(aToB80());
        // The map fast paths consult (docs/veth-hooks.md): b only.
        try (BpfMap isolated = BpfMap.openPinned(bpffs.resolve("policy").resolve("ingress_isolated"))) {
            assertEquals(List.of(b.hostIfIndex()), isolated.keys().stream().map(PolicyLayouts::u32).toList());
        }
        DatagramSocket on81 = track(NetNs.callIn(NetnsPods.netns(b), () -> new DatagramSocket(81)));
        DatagramSocket on80 = track(NetNs.callIn(NetnsPods.netns(b), () -> new DatagramSocket(80)));
        on81.setSoTimeout(500);
        on80.setSoTimeout(500);
        sendUdp(a, v4(b), 81, "from-a");
        assertEquals("from-a", receive(on81));
        sendUdp(c, v4(b), 81, "from-c");
        assertThrows(SocketTimeoutException.class, () -> receive(on81), "c denied");
        sendUdp(a, v4(b), 80, "udp-80");
        assertThrows(SocketTimeoutException.class, () -> receive(on80), "the TCP 80 rule admits no UDP");
        sendUdp(a, v6(b), 81, "from-a-v6");
        assertEquals("from-a-v6", receive(on81));
    }

    private static void sendUdp(Pod from, InetAddress to, int port, String text) throws Exception {
        NetNs.callIn(NetnsPods.netns(from), () -> {
            try (DatagramSocket socket = new DatagramSocket()) {
                byte[] bytes = text.getBytes();
                socket.send(new DatagramPacket(bytes, bytes.length, to, port));
            }
            return null;
        });
    }

    private static String receive(DatagramSocket socket) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[64], 64);
        socket.receive(packet);
        return new String(packet.getData(), 0, packet.getLength());
    }

    @Test
    void establishedConnectionThatANewPolicyDeniesIsResetAtBothEndsWithinOneSecond() throws Exception {
        datapath.apply(aToB80());
        ServerSocket server = track(NetnsPods.listen(b, 80));
        Socket client = track(NetnsPods.connect(a, v4(b), 80, 1000));
        Socket accepted = track(server.accept());
        client.setSoTimeout(3000);
        accepted.setSoTimeout(3000);
        client.getOutputStream().write(1);
        assertEquals(1, accepted.getInputStream().read());

        AtomicLong serverFailedAt = new AtomicLong();
        Thread serverReader = new Thread(() -> {
            try {
                accepted.getInputStream().read();
            } catch (IOException e) {
                // expected: reset
            }
            serverFailedAt.set(System.nanoTime());
        });
        serverReader.start();
        long start = System.nanoTime();
        datapath.apply(bIngress(List.of())); // b now admits nobody
        IOException clientFailure = assertThrows(IOException.class, () -> {
            client.getOutputStream().write(2);
            client.getInputStream().read();
        });
        long clientMillis = (System.nanoTime() - start) / 1_000_000;
        serverReader.join(3000);
        long serverMillis = (serverFailedAt.get() - start) / 1_000_000;
        assertTrue(clientMillis < 1000 && serverFailedAt.get() != 0 && serverMillis < 1000,
                "client ended after " + clientMillis + " ms (" + clientFailure + "), server after " + serverMillis + " ms");
        assertTrue(counters(b).socketsDestroyed() + counters(a).socketsDestroyed() >= 1);
        System.out.printf("established plain connection ended: client %d ms, server %d ms%n", clientMillis, serverMillis);
    }

    /**
     * The sockmap datapath's own object (from the bpf artifact) redirects a connection between a and b; a new
     * policy denying it resets both ends and the kernel takes both sockets out of the sockhash.
     */
    @Test
    void redirectedConnectionThatANewPolicyDeniesIsResetAndLeavesTheSockhash() throws Exception {
        Path cgroupRoot = CgroupV2.ensureMounted();
        Path cgroup = CgroupV2.create(cgroupRoot, TestNames.unique("pd-cg-", 6));
        byte[] elf;
        try (InputStream in = getClass().getResourceAsStream("/bpf/sockmap.bpf.o")) {
            elf = in.readAllBytes();
        }
        BpfObject sockmap = BpfObject.open(elf, "pd_sockmap");
        try {
            sockmap.load();
            BpfMap sockHash = sockmap.map("sock_hash");
            sockmap.program("patu_sk_msg").attachToMap(sockHash, AttachType.SK_MSG_VERDICT);
            try (BpfLink sockops = sockmap.program("patu_sockops").attachCgroup(cgroup)) {
                for (Pod pod : List.of(a, b)) {
                    sockmap.map("local_pods").update(PolicyLayouts.address16(v4(pod)),
                            PolicyLayouts.podValue(pod.hostIfIndex(), 1), BpfMap.ANY);
                }
                CgroupV2.addProcess(cgroup, ProcessHandle.current().pid()); // sockets made from now on are covered
                datapath.apply(aToB80());
                ServerSocket server = track(NetnsPods.listen(b, 80));
                Socket client = track(NetnsPods.connect(a, v4(b), 80, 1000));
                Socket accepted = track(server.accept());
                client.setSoTimeout(3000);
                accepted.setSoTimeout(3000);
                client.getOutputStream().write(new byte[1000]);
                assertEquals(1000, accepted.getInputStream().readNBytes(1000).length);
                assertEquals(2, sockHash.keys().size(), "both ends redirected");
                long redirected = PolicyLayouts.sumCounters(sockmap.map("sockmap_stats").lookup(new byte[4]).orElseThrow())[0];
                assertTrue(redirected > 0, "the message went through sk_msg: " + redirected);

                long start = System.nanoTime();
                datapath.apply(bIngress(List.of()));
                assertThrows(IOException.class, () -> {
                    client.getOutputStream().write(2);
                    client.getInputStream().read();
                });
                long clientMillis = (System.nanoTime() - start) / 1_000_000;
                assertThrows(IOException.class, () -> accepted.getInputStream().read());
                long serverMillis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(clientMillis < 1000 && serverMillis < 1000, clientMillis + " / " + serverMillis + " ms");
                // Since 6.3 a socket leaves the sockhash when its owner closes it (no unhash on TCP_CLOSE), which
                // an application does once it has seen the reset.
                client.close();
                accepted.close();
                assertEquals(List.of(), sockHash.keys(), "both sockets left the sockhash");
                System.out.printf("established redirected connection ended: client %d ms, server %d ms%n",
                        clientMillis, serverMillis);
            } finally {
                CgroupV2.removeMovingProcessesTo(cgroup, cgroupRoot);
                sockmap.program("patu_sk_msg").detachFromMap(sockmap.map("sock_hash"), AttachType.SK_MSG_VERDICT);
            }
        } finally {
            sockmap.close();
        }
    }

    @Test
    void switchingBetweenTwoPoliciesNeverDropsWhatBothAllowNorAdmitsWhatBothDeny() throws Exception {
        // A: a -> b:80, c -> b:81.  B: a -> b:80, a -> b:81.  Both allow a -> b:80 and deny c -> b:80.
        List<PeerRule> policyA = List.of(peer(v4(a), 32, new PortRange(TCP, 80, 80)),
                peer(v4(c), 32, new PortRange(TCP, 81, 81)));
        List<PeerRule> policyB = List.of(peer(v4(a), 32, new PortRange(TCP, 80, 81)));
        echoServer(b, 80);
        datapath.apply(bIngress(policyA));
        Socket kept = track(NetnsPods.connect(a, v4(b), 80, 1000));
        kept.setSoTimeout(2000);

        AtomicBoolean switching = new AtomicBoolean(true);
        AtomicReference<Throwable> keptFailure = new AtomicReference<>();
        AtomicLong roundTrips = new AtomicLong();
        AtomicLong admitted = new AtomicLong();
        AtomicLong attempts = new AtomicLong();
        Thread talker = new Thread(() -> {
            byte value = 0;
            while (switching.get()) {
                try {
                    roundTrip(kept, value++);
                    roundTrips.incrementAndGet();
                } catch (Throwable t) {
                    keptFailure.set(t);
                    return;
                }
            }
        });
        Thread intruder = new Thread(() -> {
            while (switching.get()) {
                try (Socket s = NetnsPods.connect(c, v4(b), 80, 150)) {
                    admitted.incrementAndGet();
                } catch (Exception expected) {
                    // denied: the SYN is dropped
                }
                attempts.incrementAndGet();
            }
        });
        talker.start();
        intruder.start();
        long start = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            datapath.apply(bIngress(i % 2 == 0 ? policyB : policyA));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        switching.set(false);
        talker.join(5000);
        intruder.join(5000);
        System.out.printf("1000 switches in %d ms; %d round trips kept, %d intrusion attempts%n", millis,
                roundTrips.get(), attempts.get());
        assertEquals(null, keptFailure.get(), "the connection both policies allow never broke");
        assertTrue(roundTrips.get() > 1000, "it kept talking: " + roundTrips.get());
        assertEquals(0, admitted.get(), "no connection both policies deny was ever admitted (of " + attempts.get() + ")");
        assertTrue(attempts.get() > 10);
    }

    /** 1,000 rules on one pod, then changes to 1,000 others and back: each enforced; the time to the kernel is printed. */
    @Test
    void aThousandRuleChangeIsEnforcedAsAWhole() throws Exception {
        echoServer(b, 80);
        for (int round = 0; round < 6; round++) {
            List<PeerRule> rules = new ArrayList<>();
            rules.add(peer(v4(round % 2 == 0 ? a : c), 32, new PortRange(TCP, 80, 80)));
            for (int i = 1; i < 1000; i++) {
                rules.add(peer(NetnsPods.address("10." + (200 + round % 2) + "." + (i / 250) + "." + (i % 250)), 32,
                        new PortRange(TCP, 1000 + i, 1000 + i), new PortRange(UDP, 53, 53)));
            }
            CompiledPolicy policy = bIngress(rules);
            long start = System.nanoTime();
            datapath.apply(policy);
            System.out.printf("1,000-rule policy in the kernel after %.1f ms (round %d), of which %s%n",
                    (System.nanoTime() - start) / 1e6, round, datapath.status());
            assertEquals(round % 2 == 0, NetnsPods.canConnect(a, v4(b), 80), "a allowed in even rounds only");
            assertEquals(round % 2 == 1, NetnsPods.canConnect(c, v4(b), 80), "c allowed in odd rounds only");
        }
        long entries = datapath.status().get("generation");
        assertEquals(generation, entries, "one generation per apply");
    }

    /**
     * Generations are written as differences to the value the spare slot held: after every change of a
     * sequence (rules changed, pods isolated and released, pods gone, and a new agent taking pinned maps over),
     * the slot in force holds exactly the entries of the policy applied, no more, no fewer, and connections
     * follow it.
     */
    @Test
    void eachGenerationHoldsExactlyItsPolicyWhateverTheSlotHeldBefore() throws Exception {
        echoServer(b, 80);
        java.util.Random random = new java.util.Random(42);
        for (int round = 0; round < 24; round++) {
            if (round == 12) {
                // A restarted agent: the same pins, a writer that does not know what the slots hold.
                datapath.keepForRestart();
                datapath = new PolicyDatapath(config(bpffs));
                for (Pod pod : List.of(a, b, c)) {
                    datapath.podAdded(pod);
                }
            }
            Map<Integer, PodRules> pods = new HashMap<>();
            boolean aAllowed = random.nextBoolean();
            for (Pod pod : List.of(a, b, c)) {
                if (pod != b && random.nextInt(4) == 0) {
                    continue; // gone from this generation
                }
                boolean ingress = pod == b || random.nextBoolean();
                boolean egress = pod != b && random.nextBoolean();
                List<PeerRule> rules = new ArrayList<>();
                if (pod == b && aAllowed) {
                    rules.add(peer(v4(a), 32, new PortRange(TCP, 80, 80)));
                }
                for (int i = 0; i < 50 + random.nextInt(50); i++) {
                    rules.add(peer(NetnsPods.address("10.203." + random.nextInt(4) + "." + i), 32,
                            new PortRange(TCP, 1000 + random.nextInt(3), 1000 + random.nextInt(3) + 5)));
                }
                List<PeerRule> egressRules = new ArrayList<>(rules.subList(pod == b && aAllowed ? 1 : 0, rules.size()));
                egressRules.add(peer(v4(b), 32, new PortRange(TCP, 80, 80))); // an isolated a may still send to b
                pods.put(pod.hostIfIndex(), new PodRules(pod.hostIfIndex(), addresses(pod), ingress, egress,
                        ingress ? rules : List.of(), egress ? egressRules : List.of()));
            }
            CompiledPolicy policy = new CompiledPolicy(++generation, pods);
            datapath.apply(policy);
            long inForce = datapath.status().get("generation");
            int slot = (int) (inForce & 1);
            assertEquals(expectedEntries(policy, slot), slotEntries(slot), "round " + round + ": the slot in force holds exactly the policy");
            assertEquals(aAllowed, NetnsPods.canConnect(a, v4(b), 80), "round " + round + ": a -> b:80 follows the policy");
        }
    }

    /** Key -> value (hex) of every entry a policy puts into a slot: pods, then ingress and egress rules. */
    private static Map<String, String> expectedEntries(CompiledPolicy policy, int slot) {
        java.util.HexFormat hex = java.util.HexFormat.of();
        Map<String, String> entries = new java.util.TreeMap<>();
        for (PodRules pod : policy.pods().values()) {
            int flags = (pod.ingressIsolated() ? PolicyLayouts.INGRESS_ISOLATED : 0) | (pod.egressIsolated() ? PolicyLayouts.EGRESS_ISOLATED : 0);
            if (flags != 0) {
                for (InetAddress address : pod.addresses()) {
                    entries.put("pod " + hex.formatHex(PolicyLayouts.podKey(slot, address)), hex.formatHex(PolicyLayouts.podValue(pod.hostIfIndex(), flags)));
                }
            }
        }
        GenerationWriter.Encoded encoded = GenerationWriter.Encoded.of(policy);
        encoded.ingress().forEach(r -> entries.put("ingress " + hex.formatHex(r.key(slot)), hex.formatHex(r.value())));
        encoded.egress().forEach(r -> entries.put("egress " + hex.formatHex(r.key(slot)), hex.formatHex(r.value())));
        return entries;
    }

    /** What the pinned maps hold in one slot, as {@link #expectedEntries}. */
    private Map<String, String> slotEntries(int slot) {
        java.util.HexFormat hex = java.util.HexFormat.of();
        Map<String, String> entries = new java.util.TreeMap<>();
        Path pins = bpffs.resolve("policy");
        try (BpfMap pods = BpfMap.openPinned(pins.resolve("policy_pods"));
             BpfMap ingress = BpfMap.openPinned(pins.resolve("ingress_rules"));
             BpfMap egress = BpfMap.openPinned(pins.resolve("egress_rules"))) {
            for (byte[] key : pods.keys()) {
                if (PolicyLayouts.podKeySlot(key) == slot) {
                    entries.put("pod " + hex.formatHex(key), hex.formatHex(pods.lookup(key).orElseThrow()));
                }
            }
            for (byte[] key : ingress.keys()) {
                if (PolicyLayouts.ruleKeySlot(key) == slot) {
                    entries.put("ingress " + hex.formatHex(key), hex.formatHex(ingress.lookup(key).orElseThrow()));
                }
            }
            for (byte[] key : egress.keys()) {
                if (PolicyLayouts.ruleKeySlot(key) == slot) {
                    entries.put("egress " + hex.formatHex(key), hex.formatHex(egress.lookup(key).orElseThrow()));
                }
            }
        }
        return entries;
    }

    @Test
    void fiftyEnableDisableCyclesUnderTrafficLeaveNothingBehindAndEnforceEachTime() throws Exception {
        java.util.Set<String> ourPrograms = new java.util.HashSet<>(programsOfPinnedLinks());
        echoServer(b, 80);
        datapath.apply(aToB80());
        Socket kept = track(NetnsPods.connect(a, v4(b), 80, 1000));
        kept.setSoTimeout(3000);
        AtomicBoolean cycling = new AtomicBoolean(true);
        AtomicReference<Throwable> keptFailure = new AtomicReference<>();
        AtomicLong roundTrips = new AtomicLong();
        Thread talker = new Thread(() -> {
            byte value = 0;
            while (cycling.get()) {
                try {
                    roundTrip(kept, value++);
                    roundTrips.incrementAndGet();
                } catch (Throwable t) {
                    keptFailure.set(t);
                    return;
                }
            }
        });
        talker.start();
        Path pins = bpffs.resolve("policy");
        for (int cycle = 0; cycle < 50; cycle++) {
            if (datapath == null) {
                datapath = new PolicyDatapath(config(bpffs));
                for (Pod pod : List.of(a, b, c)) {
                    datapath.podAdded(pod);
                }
                datapath.apply(aToB80());
                ourPrograms.addAll(programsOfPinnedLinks());
            }
            if (cycle % 10 == 0) {
                assertFalse(NetnsPods.canConnect(c, v4(b), 80), "enforced in cycle " + cycle);
            }
            datapath.removeAll();
            datapath = null;
            assertFalse(Files.exists(pins), "pins gone in cycle " + cycle);
            if (cycle % 10 == 0) {
                assertTrue(NetnsPods.canConnect(c, v4(b), 80), "disabled: everything allowed in cycle " + cycle);
            }
        }
        cycling.set(false);
        talker.join(5000);
        assertEquals(null, keptFailure.get(), "a connection the policy allows lived through 50 cycles");
        assertTrue(roundTrips.get() > 100, "and kept talking: " + roundTrips.get());
        assertEquals(50 * 2, ourPrograms.size(), "two tc programs a cycle: " + ourPrograms);
        String loaded = io.patu.kernel.testing.Commands.check("bpftool", "prog", "show");
        assertEquals(List.of(), ourPrograms.stream().filter(id -> loaded.contains("\n" + id + ": ") || loaded.startsWith(id + ": ")).toList(),
                "none of the programs of the 50 cycles is still loaded");
        assertEquals(List.of(), Arrays.stream(io.patu.kernel.testing.Commands.check("bpftool", "link", "show").split("\n"))
                .filter(line -> line.contains("ifindex " + b.hostIfIndex() + " ")).toList(), "no link left on b's veth");
    }

    /** IDs of the programs attached through the links pinned under this test's policy directory. */
    private List<String> programsOfPinnedLinks() throws IOException {
        List<String> ids = new ArrayList<>();
        try (var pins = Files.list(bpffs.resolve("policy").resolve("links"))) {
            for (Path pin : pins.toList()) {
                String shown = io.patu.kernel.testing.Commands.check("bpftool", "link", "show", "pinned", pin.toString());
                java.util.regex.Matcher prog = java.util.regex.Pattern.compile("prog (\\d+)").matcher(shown);
                assertTrue(prog.find(), shown);
                ids.add(prog.group(1));
            }
        }
        return ids;
    }
}
