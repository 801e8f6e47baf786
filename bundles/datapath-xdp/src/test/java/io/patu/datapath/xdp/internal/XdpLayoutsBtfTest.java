package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.BtfLayouts;


/**
 * The Java layouts must match what the C compiler laid out for bpf/include/patu_xdp.h (the compiled object's BTF),
 * and the encoders must write what the programs read.
 */
class XdpLayoutsBtfTest {
    @Test
    void everySharedStructMatchesItsBtf() throws Exception {
        BtfLayouts.of(XdpLayoutsBtfTest.class, XdpKernelState.OBJECT_RESOURCE).assertMatch(XdpLayouts.ALL);
    }

    @Test
    void ipv4KeysAreV4MappedAndRulesKeepNetworkOrder() {
        assertEquals("00000000000000000000ffff0a4d0002",
                java.util.HexFormat.of().formatHex(XdpLayouts.podKey(InetAddress.ofLiteral("10.77.0.2"))));
        byte[] rule = XdpLayouts.rule(DenyRule.parse("192.0.2.0/24 udp 53-54"));
        assertEquals("c0000200", java.util.HexFormat.of().formatHex(rule, 0, 4), "address in network order");
        assertEquals("ffffff00", java.util.HexFormat.of().formatHex(rule, 16, 20), "mask in network order");
        assertEquals(4, rule[36], "family");
        assertEquals(17, rule[37], "protocol");
    }

    @Test
    void podDestCarriesTheMac() {
        byte[] dest = XdpLayouts.podDest(7, "02:42:ac:11:00:02");
        assertEquals("0242ac110002", java.util.HexFormat.of().formatHex(dest, 4, 10));
        assertEquals(7, XdpLayouts.u32(java.util.Arrays.copyOf(dest, 4)));
    }
}
