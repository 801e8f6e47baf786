package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.patu.api.NamedPort;
import io.patu.api.Pod;
import io.patu.api.PodIdentity;
import io.patu.api.PodMetadata;

/**
 * Random policy sets (seeded, so a failure replays): for every local pod and direction, one longest-prefix
 * lookup in the compiled entries must give what {@link PolicyEngine#explain} gives by evaluating the rules
 * one by one, for pod and outside addresses, around every CIDR and except boundary.
 */
class FlattenerPropertyTest {
    private static final int ROUNDS = 300;

    @Test
    void compiledLookupsAgreeWithExplain() {
        long seed = Long.getLong("patu.policy.seed", System.nanoTime());
        Random random = new Random(seed);
        List<Pod> pods = new ArrayList<>();
        List<PodMetadata> metadata = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String address = i < 6 ? "10.0." + (i % 3) + "." + (10 + i) : "fd00::" + (10 + i);
            pods.add(TestPods.pod("p" + i, 300 + i, address, new PodIdentity("ns" + (i % 2), "p" + i, "", "")));
            metadata.add(new PodMetadata("ns" + (i % 2), "p" + i, Map.of("app", "a" + (i % 3)),
                    List.of(new NamedPort("http", i % 2 == 0 ? "TCP" : "UDP", 8000 + i % 3))));
        }
        int checks = 0;
        for (int round = 0; round < ROUNDS; round++) {
            List<NetworkPolicy> policies = new ArrayList<>();
            List<String> cidrs = new ArrayList<>();
            for (int p = 0; p < 1 + random.nextInt(4); p++) {
                policies.add(policy(random, p, cidrs));
            }
            PolicyInputs inputs = PolicyInputs.of(policies, List.of(), metadata, pods);
            CompiledPolicy compiled = PolicyEngine.compile(inputs, round);
            List<InetAddress> peers = new ArrayList<>();
            pods.forEach(p -> peers.add(p.addresses().getFirst().address()));
            for (String cidr : cidrs) {
                Cidr c = Cidr.parse(cidr);
                byte[] low = c.address().getAddress();
                peers.add(c.address());
                byte[] high = low.clone();
                for (int bit = c.length(); bit < high.length * 8; bit++) {
                    high[bit / 8] |= (byte) (0x80 >>> (bit % 8));
                }
                peers.add(address(high));
            }
            peers.add(InetAddress.ofLiteral("192.0.2.1"));
            peers.add(InetAddress.ofLiteral("2001:db8::1"));
            for (Pod pod : pods) {
                InetAddress self = pod.addresses().getFirst().address();
                PodRules rules = compiled.pods().get(pod.hostIfIndex());
                for (InetAddress peer : peers) {
                    if (peer.equals(self)) {
                        continue;
                    }
                    for (int protocol : new int[] {6, 17}) {
                        for (int port : new int[] {80, 81, 8000, 8001, 8002, 9000}) {
                            Verdict out = PolicyEngine.explain(inputs, self, peer, protocol, port);
                            boolean compiledOut = !rules.egressIsolated() || TestPods.lookup(rules.egress(), peer, protocol, port);
                            assertEquals(out.egress().allows(), compiledOut, "seed " + seed + " round " + round + " egress "
                                    + self.getHostAddress() + " -> " + peer.getHostAddress() + " " + port + "/" + protocol + "; " + policies);
                            Verdict in = PolicyEngine.explain(inputs, peer, self, protocol, port);
                            boolean compiledIn = !rules.ingressIsolated() || TestPods.lookup(rules.ingress(), peer, protocol, port);
                            assertEquals(in.ingress().allows(), compiledIn, "seed " + seed + " round " + round + " ingress "
                                    + peer.getHostAddress() + " -> " + self.getHostAddress() + " " + port + "/" + protocol + "; " + policies);
                            checks += 2;
                        }
                    }
                }
            }
        }
        System.out.println("FlattenerPropertyTest: seed " + seed + " (-Dpatu.policy.seed replays it), " + checks + " lookups agreed");
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static NetworkPolicy policy(Random random, int index, List<String> cidrs) {
        Selector selected = random.nextBoolean() ? Selector.EVERYTHING : new Selector(Map.of("app", "a" + random.nextInt(3)), List.of());
        boolean ingress = random.nextInt(3) != 0;
        boolean egress = !ingress || random.nextBoolean();
        return new NetworkPolicy("r.yaml", "ns" + random.nextInt(2), "p" + index, selected, ingress, egress,
                rules(random, cidrs), rules(random, cidrs));
    }

    private static List<PolicyRule> rules(Random random, List<String> cidrs) {
        List<PolicyRule> rules = new ArrayList<>();
        for (int r = 0; r < random.nextInt(4); r++) {
            List<Peer> peers = new ArrayList<>();
            for (int p = 0; p < random.nextInt(3); p++) {
                peers.add(switch (random.nextInt(5)) {
                    case 0 -> new Peer(new Selector(Map.of("app", "a" + random.nextInt(3)), List.of()), null, null, List.of());
                    case 1 -> new Peer(null, new Selector(Map.of(PolicyInputs.NAME_LABEL, "ns" + random.nextInt(2)), List.of()), null, List.of());
                    case 2 -> new Peer(new Selector(Map.of(), List.of(new Selector.Requirement("app", Selector.Operator.NotIn,
                            java.util.Set.of("a" + random.nextInt(3))))), Selector.EVERYTHING, null, List.of());
                    default -> ipBlock(random, cidrs);
                });
            }
            List<PolicyPort> ports = new ArrayList<>();
            for (int p = 0; p < random.nextInt(3); p++) {
                int protocol = random.nextBoolean() ? 6 : 17;
                ports.add(switch (random.nextInt(4)) {
                    case 0 -> new PolicyPort(protocol, 80, 80, null);
                    case 1 -> new PolicyPort(protocol, 80, 8001, null);
                    case 2 -> new PolicyPort(protocol, 0, 65535, null);
                    default -> new PolicyPort(protocol, 0, 0, "http");
                });
            }
            rules.add(new PolicyRule(peers, ports));
        }
        return rules;
    }

    private static Peer ipBlock(Random random, List<String> cidrs) {
        if (random.nextInt(4) == 0) {
            String cidr = random.nextBoolean() ? "fd00::/120" : "::/0";
            cidrs.add(cidr);
            return new Peer(null, null, Cidr.parse(cidr), List.of());
        }
        int length = 8 + random.nextInt(17);
        Cidr cidr = new Cidr(InetAddress.ofLiteral("10.0." + random.nextInt(3) + ".0"), length);
        cidrs.add(cidr.toString());
        List<Cidr> except = new ArrayList<>();
        for (int e = 0; e < random.nextInt(3); e++) {
            int holeLength = Math.min(32, length + 1 + random.nextInt(10));
            Cidr hole = new Cidr(InetAddress.ofLiteral("10.0." + random.nextInt(3) + "." + random.nextInt(256)), holeLength);
            if (cidr.contains(hole) && hole.length() > cidr.length()) {
                except.add(hole);
                cidrs.add(hole.toString());
            }
        }
        return new Peer(null, null, cidr, except);
    }
}
