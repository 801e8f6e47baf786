package io.patu.egress.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EgressRulesetTest {
    @Test
    void cidrsAreMaskedAndOrdered() {
        assertEquals("10.77.0.0/16", Cidr.of(InetAddress.ofLiteral("10.77.3.9"), 16).toString());
        assertEquals("fd00:1::/64", Cidr.of(InetAddress.ofLiteral("fd00:1::5"), 64).toString());
        assertEquals("198.18.0.7/32", Cidr.parse(" 198.18.0.7 ").toString());
        assertEquals("::/0", Cidr.parse("::/0").toString());
        assertEquals("fd00::1:0:0:5/128", Cidr.parse("fd00:0:0:0:1:0:0:5").toString());
        assertEquals("fd00:0:1::/48", Cidr.parse("fd00:0:1:0:0:0:0:0/48").toString());
        assertEquals("1:2:3:4:5:6:7:8/128", Cidr.parse("1:2:3:4:5:6:7:8").toString());
        assertEquals("0.0.0.0/0", Cidr.parse("10.1.1.1/0").toString());
        assertTrue(Cidr.parse("10.0.0.0/8").compareTo(Cidr.parse("10.0.0.0/16")) < 0);
        assertTrue(Cidr.parse("9.0.0.0/8").compareTo(Cidr.parse("10.0.0.0/8")) < 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.0.0.0/33", "fd00::/129", "10.0.0.0/x", "example.com/8", "10.0.0/8", "/8", "10.0.0.0/-1"})
    void badCidrsAreRefused(String text) {
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
    }

    @Test
    void rulesMasqueradeOnlyTheConfiguredFamilies() {
        String v4only = new EgressRuleset("patu_egress", true, false, List.of()).create();
        assertTrue(v4only.startsWith("add table inet patu_egress\ndelete table inet patu_egress\n"), v4only);
        assertTrue(v4only.contains("ip saddr @pod_nets4 ip daddr != @pod_nets4 ip daddr != @excluded4"), v4only);
        assertFalse(v4only.contains("ip6 saddr"), v4only);
        String both = new EgressRuleset("t", true, true, List.of(Cidr.parse("198.18.0.0/15"), Cidr.parse("fd00:5::/64"))).create();
        assertTrue(both.contains("ip6 saddr @pod_nets6"), both);
        assertTrue(both.contains("set excluded4 { type ipv4_addr; flags interval; auto-merge; elements = { 198.18.0.0/15 }; }"), both);
        assertTrue(both.contains("set excluded6 { type ipv6_addr; flags interval; auto-merge; elements = { fd00:5::/64 }; }"), both);
        String none = new EgressRuleset("t", false, false, List.of()).create();
        assertFalse(none.contains("masquerade"), none);
    }

    @Test
    void podNetsAreReplacedInOneBatch() {
        EgressRuleset rules = new EgressRuleset("t", true, false, List.of());
        assertEquals("flush set inet t pod_nets4\nadd element inet t pod_nets4 { 10.1.0.0/16, 10.2.0.0/24 }\n",
                rules.podNets(true, List.of(Cidr.parse("10.2.0.0/24"), Cidr.parse("10.1.0.0/16"))));
        assertEquals("flush set inet t pod_nets6\n", rules.podNets(false, List.of()));
    }

    @Test
    void connectionCountersAreReadFromTheChainListing() {
        String listing = """
                table inet t {
                	chain postrouting {
                		type nat hook postrouting priority srcnat; policy accept;
                		ip saddr @pod_nets4 ip daddr != @pod_nets4 ip daddr != @excluded4 ip daddr != 224.0.0.0/4 counter packets 7 bytes 420 masquerade
                		ip6 saddr @pod_nets6 ip6 daddr != @pod_nets6 ip6 daddr != @excluded6 ip6 daddr != ff00::/8 counter packets 0 bytes 0 masquerade
                	}
                }
                """;
        assertEquals(7, EgressRuleset.masqueraded(listing, true));
        assertEquals(0, EgressRuleset.masqueraded(listing, false));
        assertEquals(-1, EgressRuleset.masqueraded(listing.replaceAll("(?m)^.*ip6 saddr.*$", ""), false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1abc", "patu-egress", "a b", "x;flush ruleset", "t\"", "0"})
    void tableNamesThatAreNotNftIdentifiersAreRefused(String name) {
        assertThrows(IllegalArgumentException.class, () -> new EgressRuleset(name, true, false, List.of()));
    }
}
