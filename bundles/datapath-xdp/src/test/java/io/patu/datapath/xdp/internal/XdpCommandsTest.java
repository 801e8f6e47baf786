package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

class XdpCommandsTest {
    @Test
    void ipv6AddressesAreShownCompressed() {
        assertEquals("fd00:231:13fa::a", XdpCommands.text(InetAddress.ofLiteral("fd00:231:13fa::a")));
        assertEquals("::1", XdpCommands.text(InetAddress.ofLiteral("::1")));
        assertEquals("fd00::", XdpCommands.text(InetAddress.ofLiteral("fd00::")));
        assertEquals("1:0:2:3:4:5:6:7", XdpCommands.text(InetAddress.ofLiteral("1:0:2:3:4:5:6:7")));
        assertEquals("1::3:0:0:7", XdpCommands.text(InetAddress.ofLiteral("1:0:0:0:3:0:0:7")));
        assertEquals("10.0.0.1", XdpCommands.text(InetAddress.ofLiteral("10.0.0.1")));
    }
}
