package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodAddress;
import io.patu.api.PodId;

class HostLocalAllocatorTest {
    @TempDir
    Path state;

    private HostLocalAllocator allocator(String subnet) {
        return allocator(Map.of("subnet", subnet, "stateDir", state.toString()));
    }

    private static HostLocalAllocator allocator(Map<String, Object> properties) {
        return new HostLocalAllocator(Converters.standardConverter().convert(properties)
                .to(HostLocalAllocator.Config.class));
    }

    @Test
    void givesDistinctAddressesSkippingNetworkGatewayAndBroadcast() {
        HostLocalAllocator ipam = allocator("192.168.7.0/29");
        Set<String> given = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            PodAddress address = ipam.allocate(new PodId("c" + i, "eth0")).getFirst();
            assertEquals(29, address.prefixLength());
            assertEquals("192.168.7.1", address.gateway().getHostAddress());
            given.add(address.address().getHostAddress());
        }
        assertEquals(Set.of("192.168.7.2", "192.168.7.3", "192.168.7.4", "192.168.7.5", "192.168.7.6"), given);
    }

    @Test
    void exhaustedPoolIsAClearTryAgainError() {
        HostLocalAllocator ipam = allocator("192.168.7.0/30");
        ipam.allocate(new PodId("a", "eth0"));
        PatuException error = assertThrows(PatuException.class, () -> ipam.allocate(new PodId("b", "eth0")));
        assertEquals(CniError.TRY_AGAIN, error.code());
        assertTrue(error.getMessage().contains("no free address left in 192.168.7.0/30"), error.getMessage());
    }

    @Test
    void freeAddressesCountsDownToZero() {
        HostLocalAllocator ipam = allocator("192.168.7.0/29");
        assertEquals(5, ipam.freeAddresses());
        for (int i = 0; i < 5; i++) {
            ipam.allocate(new PodId("c" + i, "eth0"));
        }
        assertEquals(0, ipam.freeAddresses());
        ipam.release(new PodId("c0", "eth0"));
        assertEquals(1, ipam.freeAddresses());
    }

    @Test
    void allocateIsIdempotentPerAttachment() {
        HostLocalAllocator ipam = allocator("10.1.0.0/24");
        List<PodAddress> first = ipam.allocate(new PodId("c", "eth0"));
        assertEquals(first, ipam.allocate(new PodId("c", "eth0")));
        assertNotEquals(first, ipam.allocate(new PodId("c", "eth1")));
        assertEquals(2, ipam.leases().size());
    }

    @Test
    void releaseFreesTheAddressAndIsIdempotent() {
        HostLocalAllocator ipam = allocator("10.1.0.0/30");
        PodId id = new PodId("c", "eth0");
        ipam.allocate(id);
        assertTrue(ipam.release(id));
        assertFalse(ipam.release(id));
        assertTrue(ipam.lease(id).isEmpty());
        // The only usable address is free again.
        assertEquals("10.1.0.2", ipam.allocate(new PodId("d", "eth0")).getFirst().address().getHostAddress());
    }

    @Test
    void releasedAddressIsNotReusedAtOnce() {
        HostLocalAllocator ipam = allocator("10.1.0.0/24");
        PodAddress a = ipam.allocate(new PodId("a", "eth0")).getFirst();
        ipam.release(new PodId("a", "eth0"));
        PodAddress b = ipam.allocate(new PodId("b", "eth0")).getFirst();
        assertNotEquals(a.address(), b.address());
    }

    @Test
    void leasesSurviveARestart() {
        HostLocalAllocator first = allocator("10.2.0.0/24");
        PodAddress a = first.allocate(new PodId("a", "eth0")).getFirst();
        first.allocate(new PodId("b", "eth0"));
        first.release(new PodId("b", "eth0"));

        HostLocalAllocator restarted = allocator("10.2.0.0/24");
        assertEquals(List.of(a), restarted.lease(new PodId("a", "eth0")).orElseThrow().addresses());
        assertEquals(1, restarted.leases().size());
        PodAddress c = restarted.allocate(new PodId("c", "eth0")).getFirst();
        assertNotEquals(a.address(), c.address());
        assertTrue(Files.exists(state.resolve("ipam/leases.json")));
        assertFalse(Files.exists(state.resolve("ipam/leases.json.tmp")));
    }

    @Test
    void explicitGatewayIsUsedAndNeverHandedOut() {
        HostLocalAllocator ipam = allocator(Map.of("subnet", "10.3.0.0/29", "gateway", "10.3.0.6",
                "stateDir", state.toString()));
        Set<String> given = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            PodAddress address = ipam.allocate(new PodId("c" + i, "eth0")).getFirst();
            assertEquals("10.3.0.6", address.gateway().getHostAddress());
            given.add(address.address().getHostAddress());
        }
        assertFalse(given.contains("10.3.0.6"));
    }

    @Test
    void badConfigurationSaysWhatIsWrong() {
        IllegalArgumentException hostBits = assertThrows(IllegalArgumentException.class, () -> allocator("10.0.0.1/24"));
        assertTrue(hostBits.getMessage().contains("did you mean 10.0.0.0/24"), hostBits.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> allocator("example.com/24"));
        assertTrue(name.getMessage().contains("not an IP address"), name.getMessage());
        assertThrows(IllegalArgumentException.class, () -> allocator("10.0.0.0"));
        assertThrows(IllegalArgumentException.class, () -> allocator("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> allocator(Map.of("subnet", "10.0.0.0/24",
                "gateway", "10.9.9.9", "stateDir", state.toString())));
    }

    @Test
    void corruptLeaseFileIsRefusedWithItsPath() throws Exception {
        Files.createDirectories(state.resolve("ipam"));
        Files.writeString(state.resolve("ipam/leases.json"), "{not json");
        UncheckedIOException error = assertThrows(UncheckedIOException.class, () -> allocator("10.1.0.0/24"));
        assertTrue(error.getMessage().contains("leases.json"), error.getMessage());
    }

    @Test
    void ipv6SubnetsWork() {
        HostLocalAllocator ipam = allocator("fd00:77::/120");
        PodAddress address = ipam.allocate(new PodId("a", "eth0")).getFirst();
        assertEquals("fd00:77:0:0:0:0:0:2", address.address().getHostAddress());
        assertEquals("fd00:77:0:0:0:0:0:1", address.gateway().getHostAddress());
    }
}
