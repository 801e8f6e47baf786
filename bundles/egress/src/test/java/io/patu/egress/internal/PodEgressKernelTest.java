package io.patu.egress.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.nft.Nftables;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;

/**
 * The component against the real kernel, in a network namespace of the test's own (its nftables and its
 * forwarding sysctls are that namespace's): table and sets as pods come and go, nothing left afterwards.
 */
@KernelTest
class PodEgressKernelTest {
    private String name;
    private Path netns;

    @BeforeEach
    void createNamespace() {
        name = TestNames.unique("pe-egr-", 8);
        netns = NetNs.create(name);
    }

    @AfterEach
    void deleteNamespace() {
        NetNs.delete(name);
    }

    static PodEgress.Config config(String table, boolean v6, String... excluded) {
        return new PodEgress.Config() {
            public Class<? extends Annotation> annotationType() {
                return PodEgress.Config.class;
            }
            public boolean masqueradeIpv4() {
                return true;
            }
            public boolean masqueradeIpv6() {
                return v6;
            }
            public String[] excludedDestinations() {
                return excluded;
            }
            public boolean manageForwarding() {
                return true;
            }
            public String table() {
                return table;
            }
        };
    }

    static Pod pod(String id, String... cidrs) {
        List<PodAddress> addresses = java.util.Arrays.stream(cidrs).map(c -> {
            InetAddress address = InetAddress.ofLiteral(c.substring(0, c.indexOf('/')));
            int length = Integer.parseInt(c.substring(c.indexOf('/') + 1));
            InetAddress gateway = InetAddress.ofLiteral(address.getHostAddress().contains(":") ? "fd00::1" : "10.0.0.1");
            return new PodAddress(address, length, gateway);
        }).toList();
        return new Pod(new PodId(id, "eth0"), "/run/netns/x", "vethx", 1, "02:00:00:00:00:01", addresses);
    }

    @Test
    void setsFollowThePodsAndTheTableGoesOnDeactivate() throws Exception {
        String table = "pe_" + name.substring(name.length() - 8);
        NetNs.callIn(netns, () -> {
            PodEgress egress = new PodEgress(config(table, true, "198.18.0.0/15"));
            try (Nftables nft = Nftables.open()) {
                assertTrue(nft.tableExists("inet", table));
                assertEquals(List.of(), egress.problems());
                Pod a = pod("a", "10.9.1.5/24", "fd00:9::5/64");
                Pod b = pod("b", "10.9.1.6/24");
                Pod c = pod("c", "10.8.0.2/16");
                egress.podAdded(a);
                egress.podAdded(b);
                egress.podAdded(c);
                String ruleset = nft.run("list table inet " + table);
                assertTrue(ruleset.contains("10.8.0.0/16"), ruleset);
                assertTrue(ruleset.contains("10.9.1.0/24"), ruleset);
                assertTrue(ruleset.contains("fd00:9::/64"), ruleset);
                assertTrue(ruleset.contains("198.18.0.0/15"), ruleset);
                assertTrue(ruleset.contains("masquerade"), ruleset);
                assertEquals(0, egress.status().connections4(), "nothing masqueraded yet, and the counter is read");
                assertEquals(0, egress.status().connections6());
                assertEquals("1", Files.readString(Forwarding.IPV4).strip(), "IPv4 forwarding on in the namespace");
                assertEquals("1", Files.readString(Forwarding.IPV6).strip(), "IPv6 forwarding on in the namespace");
                egress.podRemoved(a);
                ruleset = nft.run("list table inet " + table);
                assertTrue(ruleset.contains("10.9.1.0/24"), "b still uses it: " + ruleset);
                assertFalse(ruleset.contains("fd00:9::/64"), ruleset);
                egress.podRemoved(b);
                egress.podRemoved(c);
                assertFalse(nft.run("list set inet " + table + " pod_nets4").contains("10."));
                String status = EgressCommands.table(egress.status());
                assertTrue(status.contains("IPv6    on"), status);
                // Someone flushes the host's firewall: readiness says what is missing.
                nft.run("delete table inet " + table);
                List<String> problems = egress.problems();
                assertEquals(1, problems.size(), problems.toString());
                assertTrue(problems.get(0).contains("inet " + table + " is missing"), problems.toString());
            } finally {
                egress.deactivate();
            }
            try (Nftables nft = Nftables.open()) {
                assertFalse(nft.tableExists("inet", table));
                assertEquals("", nft.run("list ruleset").strip(), "nothing left in the namespace's nftables");
            }
            return null;
        });
    }

    @Test
    void aLeftoverTableIsReplacedAndOtherTablesStay() throws Exception {
        String table = "pe_" + name.substring(name.length() - 8);
        NetNs.callIn(netns, () -> {
            try (Nftables nft = Nftables.open()) {
                nft.run("add table inet " + table + "\nadd chain inet " + table + " stale\n"
                        + "add table ip pe_other\nadd chain ip pe_other keep\n");
                PodEgress egress = new PodEgress(config(table, false));
                try {
                    assertFalse(nft.run("list table inet " + table).contains("stale"));
                } finally {
                    egress.deactivate();
                }
                assertTrue(nft.run("list ruleset").contains("chain keep"), "another table is untouched");
                assertFalse(nft.tableExists("inet", table));
            }
            return null;
        });
    }

    @Test
    void aBadExclusionFailsActivationWithoutATable() throws Exception {
        String table = "pe_" + name.substring(name.length() - 8);
        NetNs.callIn(netns, () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new PodEgress(config(table, false, "10.0.0.0/40")));
            assertTrue(e.getMessage().contains("excludedDestinations"), e.getMessage());
            try (Nftables nft = Nftables.open()) {
                assertFalse(nft.tableExists("inet", table));
            }
            return null;
        });
    }
}
