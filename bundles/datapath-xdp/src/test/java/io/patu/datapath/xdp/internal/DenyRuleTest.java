package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DenyRuleTest {
    @Test
    void textFormsRoundTrip() {
        for (String text : new String[] {"192.0.2.0/24", "10.9.0.0/16 tcp 8000-8080", "2001:db8:0:0:0:0:0:0/32 udp 53",
                "0.0.0.0/0 icmp", "198.51.100.7/32 47"}) {
            assertEquals(text, DenyRule.parse(text).text());
            assertEquals(DenyRule.parse(text), DenyRule.parse(DenyRule.parse(text).text()));
        }
        assertEquals(DenyRule.parse("10.0.0.0/8 TCP 80-80"), DenyRule.parse("  10.0.0.0/8   tcp 80 "));
    }

    @Test
    void malformedRulesSayWhatIsWrong() {
        assertMessage("10.0.0.1/24", "has host bits set; the network is 10.0.0.0/24");
        assertMessage("10.0.0.0", "is not a CIDR");
        assertMessage("10.0.0.300/24", "'10.0.0.300' is not an IP address");
        assertMessage("10.0.0.0/33", "prefix length /33 out of range");
        assertMessage("10.0.0.0/8 tcpp", "is not a protocol");
        assertMessage("10.0.0.0/8 icmp 80", "ports need protocol tcp or udp");
        assertMessage("10.0.0.0/8 tcp 90-80", "port range 90-80");
        assertMessage("10.0.0.0/8 tcp 0", "port 0");
        assertMessage("10.0.0.0/8 tcp 70000", "not within 1..65535");
        assertMessage("", "expected CIDR");
        assertMessage("10.0.0.0/8 tcp 80 extra", "expected CIDR");
    }

    private static void assertMessage(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DenyRule.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith("deny rule '"), e.getMessage());
    }

    @Test
    void overlapNeedsAddressProtocolAndPortsToMeet() {
        DenyRule web = DenyRule.parse("10.0.0.0/8 tcp 80-90");
        assertTrue(web.overlaps(DenyRule.parse("10.1.0.0/16 tcp 90-100")));
        assertTrue(web.overlaps(DenyRule.parse("10.1.0.0/16")), "any protocol meets tcp");
        assertTrue(web.overlaps(DenyRule.parse("0.0.0.0/0 tcp")), "any port meets a range");
        assertFalse(web.overlaps(DenyRule.parse("10.1.0.0/16 tcp 91-100")), "disjoint ports");
        assertFalse(web.overlaps(DenyRule.parse("10.1.0.0/16 udp 80")), "other protocol");
        assertFalse(web.overlaps(DenyRule.parse("11.0.0.0/8 tcp 80")), "other network");
        assertFalse(web.overlaps(DenyRule.parse("::/0 tcp 80")), "other family");
    }
}
