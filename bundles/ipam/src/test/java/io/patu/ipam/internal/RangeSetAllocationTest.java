package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.api.CniError;
import io.patu.api.IpamRequest;
import io.patu.api.PatuException;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodRoute;

/** Allocation from network-configuration plans: several ranges, dual stack, requested addresses, persistence. */
class RangeSetAllocationTest {
    static final String DUAL_STACK = """
            {"type": "host-local",
             "ranges": [[{"subnet": "10.30.0.0/24", "rangeStart": "10.30.0.10", "rangeEnd": "10.30.0.12"}],
                        [{"subnet": "fd00:30::/64", "rangeStart": "fd00:30::10", "rangeEnd": "fd00:30::12"}]],
             "routes": [{"dst": "192.168.0.0/16"}, {"dst": "fd00:99::/48", "gw": "fd00:30::fe"}]}""";

    @TempDir
    Path state;

    private HostLocalAllocator allocator() {
        return allocator(Map.of("subnet", "10.77.0.0/29", "stateDir", state.toString()));
    }

    private static HostLocalAllocator allocator(Map<String, Object> properties) {
        return new HostLocalAllocator(Converters.standardConverter().convert(properties).to(HostLocalAllocator.Config.class));
    }

    private static IpamRequest plan(String json, String... ips) {
        return new IpamRequest(json, List.of(ips));
    }

    private static InetAddress ip(String text) {
        return InetAddress.ofLiteral(text);
    }

    private static PodId pod(String name) {
        return new PodId(name, "eth0");
    }

    @Test
    void dualStackGivesOneAddressPerFamilyWithItsGatewayAndRoutes() {
        List<PodAddress> addresses = allocator().allocate(pod("a"), plan(DUAL_STACK));
        assertEquals(2, addresses.size());
        PodAddress v4 = addresses.get(0);
        PodAddress v6 = addresses.get(1);
        assertEquals(ip("10.30.0.10"), v4.address());
        assertEquals(24, v4.prefixLength());
        assertEquals(ip("10.30.0.1"), v4.gateway());
        assertEquals(List.of(new PodRoute(ip("192.168.0.0"), 16, null)), v4.routes());
        assertEquals(ip("fd00:30::10"), v6.address());
        assertEquals(64, v6.prefixLength());
        assertEquals(ip("fd00:30::1"), v6.gateway());
        assertEquals(List.of(new PodRoute(ip("fd00:99::"), 48, ip("fd00:30::fe"))), v6.routes());
    }

    @Test
    void eachRangeSetIsExhaustedOnItsOwnAndNothingIsLeasedThen() {
        HostLocalAllocator ipam = allocator();
        for (int i = 0; i < 3; i++) {
            ipam.allocate(pod("p" + i), plan(DUAL_STACK));
        }
        PatuException full = assertThrows(PatuException.class, () -> ipam.allocate(pod("p3"), plan(DUAL_STACK)));
        assertEquals(CniError.TRY_AGAIN, full.code());
        assertTrue(full.getMessage().contains("no free address left in [10.30.0.0/24 10.30.0.10-10.30.0.12"), full.getMessage());
        assertTrue(ipam.lease(pod("p3")).isEmpty());
        assertEquals(3, ipam.leases().size());
    }

    @Test
    void addressesComeRoundRobinAcrossTheRangesOfASet() {
        HostLocalAllocator ipam = allocator();
        String twoRanges = """
                {"ranges": [[{"subnet": "10.40.0.0/24", "rangeStart": "10.40.0.10", "rangeEnd": "10.40.0.11"},
                             {"subnet": "10.41.0.0/30"}]]}""";
        List<String> given = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            given.add(ipam.allocate(pod("p" + i), plan(twoRanges)).getFirst().cidr());
        }
        // 10.41.0.1 is the gateway of the second range, .3 its broadcast.
        assertEquals(List.of("10.40.0.10/24", "10.40.0.11/24", "10.41.0.2/30"), given);
        assertEquals(CniError.TRY_AGAIN, assertThrows(PatuException.class,
                () -> ipam.allocate(pod("p5"), plan(twoRanges))).code(), "three addresses in all, the fourth pod gets none");
    }

    @Test
    void addressesAreUniqueAcrossPlansOfTheSameSubnet() {
        HostLocalAllocator ipam = allocator();
        String narrow = "{\"subnet\": \"10.77.0.0/29\", \"rangeStart\": \"10.77.0.2\", \"rangeEnd\": \"10.77.0.3\"}";
        Set<InetAddress> given = new HashSet<>();
        given.add(ipam.allocate(pod("a"), IpamRequest.DEFAULTS).getFirst().address());
        given.add(ipam.allocate(pod("b"), plan(narrow)).getFirst().address());
        given.add(ipam.allocate(pod("c"), IpamRequest.DEFAULTS).getFirst().address());
        assertEquals(3, given.size(), "no address given twice: " + given);
        assertEquals(CniError.TRY_AGAIN, assertThrows(PatuException.class, () -> ipam.allocate(pod("d"), plan(narrow))).code());
    }

    @Test
    void requestedAddressesAreHonouredPerRangeSet() {
        HostLocalAllocator ipam = allocator();
        List<PodAddress> addresses = ipam.allocate(pod("a"), plan(DUAL_STACK, "fd00:30::12/64", "10.30.0.11"));
        assertEquals(ip("10.30.0.11"), addresses.get(0).address());
        assertEquals(ip("fd00:30::12"), addresses.get(1).address());
        // Only one family requested: the other is allocated as usual.
        List<PodAddress> other = ipam.allocate(pod("b"), plan(DUAL_STACK, "10.30.0.10"));
        assertEquals(ip("10.30.0.10"), other.get(0).address());
        assertEquals(ip("fd00:30::10"), other.get(1).address());
    }

    @Test
    void requestedAddressTakenOutsideOrMalformedIsAnErrorThatLeasesNothing() {
        HostLocalAllocator ipam = allocator();
        ipam.allocate(pod("a"), plan(DUAL_STACK, "10.30.0.11"));
        assertRequestRefused(ipam, "already leased to a/eth0", "10.30.0.11");
        assertRequestRefused(ipam, "outside every range", "10.30.0.13");
        assertRequestRefused(ipam, "outside every range", "10.99.0.1");
        assertRequestRefused(ipam, "is the gateway of 10.30.0.0/24", "10.30.0.1");
        assertRequestRefused(ipam, "same range set", "10.30.0.10", "10.30.0.12");
        assertRequestRefused(ipam, "requested twice", "10.30.0.10", "10.30.0.10");
        assertRequestRefused(ipam, "not valid", "10.30.0.x");
        assertRequestRefused(ipam, "not valid", "10.30.0.10/40");
        assertEquals(1, ipam.leases().size());
    }

    private static void assertRequestRefused(HostLocalAllocator ipam, String expected, String... ips) {
        PatuException error = assertThrows(PatuException.class, () -> ipam.allocate(pod("b"), plan(DUAL_STACK, ips)));
        assertEquals(CniError.INVALID_NETWORK_CONFIG, error.code(), error.getMessage());
        assertTrue(error.getMessage().contains(expected), error.getMessage());
        assertTrue(ipam.lease(pod("b")).isEmpty());
    }

    @Test
    void invalidPlanChangesNothingEvenForAnAttachmentWithALease() throws IOException {
        HostLocalAllocator ipam = allocator();
        ipam.allocate(pod("a"), plan(DUAL_STACK));
        byte[] before = Files.readAllBytes(state.resolve("ipam/leases.json"));
        String bad = "{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.1.0.1\"}]]}";
        assertEquals(CniError.INVALID_NETWORK_CONFIG, assertThrows(PatuException.class,
                () -> ipam.allocate(pod("b"), plan(bad))).code());
        assertEquals(CniError.INVALID_NETWORK_CONFIG, assertThrows(PatuException.class,
                () -> ipam.allocate(pod("a"), plan(bad))).code());
        assertEquals(List.of(pod("a")), ipam.leases().stream().map(l -> l.id()).toList());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(state.resolve("ipam/leases.json"))), "file untouched");
    }

    @Test
    void addIsIdempotentPerContainerAndInterface() {
        HostLocalAllocator ipam = allocator();
        List<PodAddress> first = ipam.allocate(pod("a"), plan(DUAL_STACK));
        assertEquals(first, ipam.allocate(pod("a"), plan(DUAL_STACK)));
        assertEquals(first, ipam.allocate(pod("a"), plan(DUAL_STACK, "10.30.0.12")), "an existing lease wins over a request");
        List<PodAddress> eth1 = ipam.allocate(new PodId("a", "eth1"), plan(DUAL_STACK));
        assertFalse(eth1.get(0).address().equals(first.get(0).address()));
        assertEquals(2, ipam.leases().size());
    }

    @Test
    void dualStackLeasesAndCursorsSurviveARestart() throws IOException {
        HostLocalAllocator first = allocator();
        List<PodAddress> a = first.allocate(pod("a"), plan(DUAL_STACK));
        first.allocate(pod("b"), plan(DUAL_STACK));
        first.release(pod("b"));

        HostLocalAllocator restarted = allocator();
        assertEquals(a, restarted.lease(pod("a")).orElseThrow().addresses(), "addresses, gateways and routes reloaded");
        List<PodAddress> c = restarted.allocate(pod("c"), plan(DUAL_STACK));
        assertEquals(ip("10.30.0.12"), c.get(0).address(), "the round-robin cursor survived: b's address is not reused at once");
        assertEquals(ip("fd00:30::12"), c.get(1).address());

        JsonNode file = new ObjectMapper().readTree(state.resolve("ipam/leases.json").toFile());
        assertEquals(2, file.get("version").asInt());
        JsonNode lease = file.get("leases").get(0);
        assertEquals("a", lease.get("containerId").asText());
        assertEquals("ipv4", lease.get("addresses").get(0).get("family").asText());
        assertEquals("ipv6", lease.get("addresses").get(1).get("family").asText());
        JsonNode set = file.get("rangeSets").get(lease.get("addresses").get(1).get("rangeSet").asInt());
        assertEquals("fd00:30:0:0:0:0:0:0/64", set.get("ranges").get(0).get("subnet").asText());
        assertTrue(set.has("lastReserved"), set.toString());
    }

    @Test
    void agentConfigurationCanItselfBeDualStack() {
        HostLocalAllocator ipam = allocator(Map.of("ipam", DUAL_STACK, "stateDir", state.toString()));
        List<PodAddress> addresses = ipam.allocate(pod("a"), IpamRequest.DEFAULTS);
        assertEquals(List.of(true, false), addresses.stream().map(PodAddress::isIpv4).toList());
        assertEquals(2, ipam.freeAddresses(), "each set has 3 addresses; one pod holds one of each");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> allocator(Map.of("ipam", "{\"ranges\": 1}", "stateDir", state.toString())));
        assertTrue(bad.getMessage().contains("io.patu.ipam"), bad.getMessage());
    }

    @Test
    void versionOneLeaseFilesAreRead() throws IOException {
        Files.createDirectories(state.resolve("ipam"));
        Files.writeString(state.resolve("ipam/leases.json"), """
                {"version": 1, "subnet": "10.77.0.0/29", "last": "10.77.0.3",
                 "leases": [{"containerId": "old", "ifName": "eth0", "address": "10.77.0.3"}]}""");
        HostLocalAllocator ipam = allocator();
        assertEquals(List.of(new PodAddress(ip("10.77.0.3"), 29, ip("10.77.0.1"))),
                ipam.lease(pod("old")).orElseThrow().addresses());
        assertEquals(ip("10.77.0.4"), ipam.allocate(pod("new"), IpamRequest.DEFAULTS).getFirst().address());
        assertEquals(2, new ObjectMapper().readTree(state.resolve("ipam/leases.json").toFile()).get("version").asInt());
    }

    @Test
    void inconsistentLeaseFilesAreRefused() throws IOException {
        Files.createDirectories(state.resolve("ipam"));
        Path file = state.resolve("ipam/leases.json");
        String set = "\"rangeSets\": [{\"ranges\": [{\"subnet\": \"10.77.0.0/29\", \"rangeStart\": \"10.77.0.1\","
                + " \"rangeEnd\": \"10.77.0.6\", \"gateway\": \"10.77.0.1\"}]}]";
        Files.writeString(file, "{\"version\": 2, " + set + ", \"leases\": ["
                + "{\"containerId\": \"a\", \"ifName\": \"eth0\", \"addresses\": [{\"address\": \"10.77.0.2\", \"prefixLength\": 29, \"gateway\": \"10.77.0.1\", \"rangeSet\": 0}]},"
                + "{\"containerId\": \"b\", \"ifName\": \"eth0\", \"addresses\": [{\"address\": \"10.77.0.2\", \"prefixLength\": 29, \"gateway\": \"10.77.0.1\", \"rangeSet\": 0}]}]}");
        assertTrue(assertThrows(java.io.UncheckedIOException.class, this::allocator).getMessage().contains("leased twice"));
        Files.writeString(file, "{\"version\": 2, " + set + ", \"leases\": ["
                + "{\"containerId\": \"a\", \"ifName\": \"eth0\", \"addresses\": [{\"address\": \"10.77.0.9\", \"prefixLength\": 29, \"gateway\": \"10.77.0.1\", \"rangeSet\": 0}]}]}");
        assertTrue(assertThrows(java.io.UncheckedIOException.class, this::allocator).getMessage().contains("outside its range set"));
        Files.writeString(file, "{\"version\": 3}");
        assertTrue(assertThrows(java.io.UncheckedIOException.class, this::allocator).getMessage().contains("format version 3"));
    }
}
