package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.Route;

class UplinkMtuTest {
    private static Link link(int index, int mtu) {
        return new Link(index, "if" + index, "", "", mtu, true, 0, 0, 0, 0, 0);
    }

    @Test
    void theLowestDefaultRouteWinsAndARouteMetricBelowItsDevice() {
        List<Link> links = List.of(link(2, 1500), link(3, 9000), link(4, 1500));
        InetAddress gw = InetAddress.ofLiteral("192.0.2.1");
        assertEquals(OptionalInt.of(1500), UplinkMtu.lowest(List.of(
                new Route(null, 0, gw, 3), new Route(null, 0, gw, 2),
                new Route(InetAddress.ofLiteral("10.0.0.0"), 8, null, 4, 1000)), links),
                "only default routes count");
        assertEquals(OptionalInt.of(1400), UplinkMtu.lowest(List.of(new Route(null, 0, gw, 3, 1400)), links));
        assertEquals(OptionalInt.of(9000), UplinkMtu.lowest(List.of(new Route(null, 0, gw, 3)), links));
        assertTrue(UplinkMtu.lowest(List.of(), links).isEmpty(), "no default route: the caller falls back");
        assertTrue(UplinkMtu.lowest(List.of(new Route(null, 0, gw, 0)), links).isEmpty(), "multipath without a device");
    }

    @Test
    void aConfiguredUplinkMtuIsCheckedAndUsedAsIs() {
        assertThrows(IllegalArgumentException.class, () -> new UplinkMtu(67));
        assertThrows(IllegalArgumentException.class, () -> new UplinkMtu(65536));
        assertThrows(IllegalArgumentException.class, () -> new UplinkMtu(-1));
        assertEquals(1400, new UplinkMtu(1400).of(null, 2), "no netlink needed");
    }
}
