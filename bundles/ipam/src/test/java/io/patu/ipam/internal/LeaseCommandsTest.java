package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.IpAllocator;
import io.patu.api.PodAddress;
import io.patu.api.PodId;

class LeaseCommandsTest {
    @Test
    void oneRowPerLeasedAddress() {
        PodAddress address = new PodAddress(InetAddress.ofLiteral("10.77.0.2"), 16, InetAddress.ofLiteral("10.77.0.1"));
        assertEquals("""
                CONTAINER  IFNAME  ADDRESS       GATEWAY
                c1         eth0    10.77.0.2/16  10.77.0.1""",
                LeaseCommands.table(List.of(new IpAllocator.Lease(new PodId("c1", "eth0"), List.of(address)))));
    }

    @Test
    void noLeasesSaysSo() {
        assertEquals("no leases", LeaseCommands.table(List.of()));
    }
}
