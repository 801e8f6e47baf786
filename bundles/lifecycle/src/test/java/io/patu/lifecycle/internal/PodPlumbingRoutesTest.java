package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.PodAddress;
import io.patu.api.PodRoute;

class PodPlumbingRoutesTest {
    private static InetAddress ip(String text) {
        return InetAddress.ofLiteral(text);
    }

    @Test
    void oneDefaultRoutePerFamilyThenTheExtraRoutesThroughTheGateway() {
        PodAddress v4 = new PodAddress(ip("10.1.0.5"), 24, ip("10.1.0.1"),
                List.of(new PodRoute(ip("192.168.0.0"), 16, null), new PodRoute(ip("172.16.0.0"), 12, ip("10.1.0.254"))));
        PodAddress v6 = new PodAddress(ip("fd00::5"), 64, ip("fd00::1"), List.of(new PodRoute(ip("fd01::"), 48, null)));
        PodAddress secondV4 = new PodAddress(ip("10.2.0.5"), 24, ip("10.2.0.1"));
        assertEquals(List.of(
                new PodRoute(ip("0.0.0.0"), 0, ip("10.1.0.1")),
                new PodRoute(ip("192.168.0.0"), 16, ip("10.1.0.1")),
                new PodRoute(ip("172.16.0.0"), 12, ip("10.1.0.254")),
                new PodRoute(ip("::"), 0, ip("fd00::1")),
                new PodRoute(ip("fd01::"), 48, ip("fd00::1"))),
                PodPlumbing.routes(List.of(v4, v6, secondV4)), "a second IPv4 address adds no second default route");
    }

    @Test
    void aListedDefaultRouteWithItsOwnGatewayReplacesTheAddressGateway() {
        PodAddress v4 = new PodAddress(ip("10.1.0.5"), 24, ip("10.1.0.1"),
                List.of(new PodRoute(ip("0.0.0.0"), 0, ip("10.1.0.254")), new PodRoute(ip("0.0.0.0"), 0, null)));
        assertEquals(List.of(new PodRoute(ip("0.0.0.0"), 0, ip("10.1.0.254"))), PodPlumbing.routes(List.of(v4)));
    }

    @Test
    void routesOffTheNodeCarryTheUplinkMtuAndRoutesToPodRangesNone() {
        PodAddress v4 = new PodAddress(ip("10.1.0.5"), 16, ip("10.1.0.1"),
                List.of(new PodRoute(ip("192.168.0.0"), 16, null), new PodRoute(ip("10.1.8.0"), 24, null)));
        PodAddress v6 = new PodAddress(ip("fd00::5"), 64, ip("fd00::1"), List.of(new PodRoute(ip("fd01::"), 48, null)));
        List<PodAddress> pod = List.of(v4, v6);
        assertEquals(1500, PodPlumbing.routeMtu(new PodRoute(ip("0.0.0.0"), 0, null), pod, 65535, 1500));
        assertEquals(1500, PodPlumbing.routeMtu(new PodRoute(ip("192.168.0.0"), 16, null), pod, 65535, 1500));
        assertEquals(0, PodPlumbing.routeMtu(new PodRoute(ip("10.1.8.0"), 24, null), pod, 65535, 1500),
                "inside the pod's own subnet: node-local");
        assertEquals(1280, PodPlumbing.routeMtu(new PodRoute(ip("::"), 0, null), pod, 65535, 1280));
        assertEquals(1280, PodPlumbing.routeMtu(new PodRoute(ip("fd01::"), 48, null), pod, 65535, 1280));
        assertEquals(0, PodPlumbing.routeMtu(new PodRoute(ip("fd00::"), 96, null), pod, 65535, 1280));
    }

    @Test
    void noRouteCarriesAnMtuWhenTheUplinkTakesTheVethMtu() {
        List<PodAddress> pod = List.of(new PodAddress(ip("10.1.0.5"), 24, ip("10.1.0.1")));
        PodRoute defaultRoute = new PodRoute(ip("0.0.0.0"), 0, null);
        assertEquals(0, PodPlumbing.routeMtu(defaultRoute, pod, 1500, 1500), "the plain layout");
        assertEquals(0, PodPlumbing.routeMtu(defaultRoute, pod, 1400, 1500), "a conflist mtu below the uplink caps everything");
        assertEquals(1500, PodPlumbing.routeMtu(defaultRoute, pod, 9000, 1500));
    }
}
