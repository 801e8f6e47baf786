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
}
