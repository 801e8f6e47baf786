package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodIdentity;
import io.patu.api.PortMapping;

/** The pod registry keeps a pod's CNI_ARGS identity across a restart, and reads files written before it. */
class PodRegistryTest {
    @TempDir
    Path state;

    private static Pod pod(String container, PodIdentity identity) {
        return new Pod(new PodId(container, "eth0"), "/run/netns/" + container, "vpatu" + container, 7, "02:00:00:00:00:01",
                List.of(new PodAddress(InetAddress.ofLiteral("10.9.0.5"), 24, InetAddress.ofLiteral("10.9.0.1"))), identity);
    }

    @Test
    void identitySurvivesARestart() throws Exception {
        Pod named = pod("c1", new PodIdentity("shop", "web-0", "uid-1", "infra-1"));
        Pod anonymous = pod("c2", PodIdentity.NONE);
        new PodRegistry(state).put(named);
        PodRegistry first = new PodRegistry(state);
        first.put(anonymous);
        PodRegistry restarted = new PodRegistry(state);
        assertEquals(List.of(named, anonymous), restarted.all());
        assertFalse(Files.readString(state.resolve("pods.json")).contains("\"identity\" : {\n      \"namespace\" : \"\""),
                "a pod without identity writes none");
    }

    @Test
    void aFileWithoutIdentitiesReadsAsNone() throws Exception {
        Files.writeString(state.resolve("pods.json"), """
                {"version": 1, "pods": [{"containerId": "old", "ifName": "eth0", "netns": "/run/netns/old",
                 "hostVeth": "vpatuold", "hostIfIndex": 9, "mac": "02:00:00:00:00:02",
                 "addresses": [{"address": "10.9.0.6", "prefixLength": 24, "gateway": "10.9.0.1"}]}]}
                """);
        assertEquals(PodIdentity.NONE, new PodRegistry(state).all().getFirst().identity());
    }

    @Test
    void publishedPortsSurviveARestart() throws Exception {
        Pod publishing = pod("c3", PodIdentity.NONE).withPortMappings(List.of(
                new PortMapping(null, 8080, 80, "tcp"), new PortMapping(InetAddress.ofLiteral("fd00::1"), 5353, 53, "udp")));
        new PodRegistry(state).put(publishing);
        assertEquals(List.of(publishing), new PodRegistry(state).all(), "the feature restarting replays these ports");
    }
}
