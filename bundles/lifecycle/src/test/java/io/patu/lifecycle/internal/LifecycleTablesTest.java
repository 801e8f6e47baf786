package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;

class LifecycleTablesTest {
    @Test
    void podsAreOneRowEach() {
        Pod pod = new Pod(new PodId("c1", "eth0"), "/run/netns/a", "vpatu1234", 7, "02:00:00:00:00:01",
                List.of(new PodAddress(InetAddress.ofLiteral("10.77.0.2"), 16, InetAddress.ofLiteral("10.77.0.1"))));
        Pod named = new Pod(new PodId("c2", "eth0"), "/run/netns/b", "vpatu5678", 8, "02:00:00:00:00:02",
                List.of(new PodAddress(InetAddress.ofLiteral("10.77.0.3"), 16, InetAddress.ofLiteral("10.77.0.1"))),
                new io.patu.api.PodIdentity("", "web", "", ""));
        assertEquals("""
                CONTAINER  IFNAME  POD          NETNS         HOST VETH  ADDRESSES
                c1         eth0    -            /run/netns/a  vpatu1234  10.77.0.2/16
                c2         eth0    default/web  /run/netns/b  vpatu5678  10.77.0.3/16""", LifecycleTables.pods(List.of(pod, named)));
        assertEquals("no pods", LifecycleTables.pods(List.of()));
    }

    @Test
    void statusWithoutFeatureManagerSaysWhereToLook() {
        String status = LifecycleTables.status(new LifecycleTables.AgentStatus("0.1.0", "/run/patu/patu.sock",
                "/var/lib/patu", 2, false, true, null));
        assertEquals("""
                AGENT         0.1.0
                socket        /run/patu/patu.sock
                state dir     /var/lib/patu
                pods          2
                ipam          absent: ADD fails until it runs (patu:enable ipam)
                remote shell  present

                features: unknown, the feature manager is not running; see the agent log (features file)""", status);
    }
}
