package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodRoute;

class IpamConfigTest {
    private static final IpamConfig AGENT = IpamConfig.single("10.77.0.0/16", null);

    private static IpamConfig parse(String json) {
        return IpamConfig.parse(json, AGENT);
    }

    private static void assertInvalid(String json, String expected) {
        PatuException error = assertThrows(PatuException.class, () -> parse(json), json);
        assertEquals(CniError.INVALID_NETWORK_CONFIG, error.code());
        assertTrue(error.getMessage().contains(expected), "'" + error.getMessage() + "' should say '" + expected + "'");
    }

    private static InetAddress ip(String text) {
        return InetAddress.ofLiteral(text);
    }

    @Test
    void rangesAreListsOfRangeSetsWithHostLocalDefaults() {
        IpamConfig config = parse("""
                {"type": "host-local", "dataDir": "/run/ignored",
                 "ranges": [
                   [{"subnet": "10.10.0.0/16", "rangeStart": "10.10.1.20", "rangeEnd": "10.10.3.50", "gateway": "10.10.0.254"},
                    {"subnet": "172.16.5.0/24"}],
                   [{"subnet": "fd00:1::/64", "rangeStart": "fd00:1::10", "rangeEnd": "fd00:1::20"}]
                 ]}""");
        assertEquals(2, config.rangeSets().size());
        RangeSet v4 = config.rangeSets().get(0);
        assertEquals(2, v4.ranges().size());
        AddressRange explicit = v4.ranges().get(0);
        assertEquals(ip("10.10.1.20"), explicit.start());
        assertEquals(ip("10.10.3.50"), explicit.end());
        assertEquals(ip("10.10.0.254"), explicit.gateway());
        AddressRange defaulted = v4.ranges().get(1);
        assertEquals(ip("172.16.5.1"), defaulted.start());
        assertEquals(ip("172.16.5.254"), defaulted.end(), "the broadcast address is never handed out");
        assertEquals(ip("172.16.5.1"), defaulted.gateway());
        AddressRange v6 = config.rangeSets().get(1).ranges().getFirst();
        assertEquals(ip("fd00:1::1"), v6.gateway());
        assertTrue(!config.rangeSets().get(1).isIpv4());
        assertEquals(List.of(), config.routes());
    }

    @Test
    void legacySingleRangeIsTheFirstRangeSet() {
        IpamConfig config = parse("""
                {"subnet": "10.20.0.0/24", "rangeStart": "10.20.0.100", "rangeEnd": "10.20.0.110", "gateway": "10.20.0.254",
                 "ranges": [[{"subnet": "fd00:2::/120"}]]}""");
        assertEquals(2, config.rangeSets().size());
        AddressRange legacy = config.rangeSets().get(0).ranges().getFirst();
        assertEquals(ip("10.20.0.100"), legacy.start());
        assertEquals(ip("10.20.0.110"), legacy.end());
        assertEquals(ip("10.20.0.254"), legacy.gateway());
        assertEquals("fd00:2:0:0:0:0:0:0/120", config.rangeSets().get(1).ranges().getFirst().subnet().toString());
    }

    @Test
    void noRangesTakesTheAgentsRangeSetsButKeepsTheRoutes() {
        IpamConfig config = parse("{\"type\": \"patu\", \"routes\": [{\"dst\": \"192.168.0.0/16\"}]}");
        assertEquals(AGENT.rangeSets(), config.rangeSets());
        assertEquals(List.of(new PodRoute(ip("192.168.0.0"), 16, null)), config.routes());
    }

    @Test
    void routesAreMaskedDeduplicatedAndKeepTheirGateway() {
        IpamConfig config = parse("""
                {"ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "fd00:3::/64"}]],
                 "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/16", "gw": "10.1.0.200"},
                            {"dst": "fd00:9::1/64"}, {"dst": "192.168.0.0/16", "gw": "10.1.0.200"}]}""");
        assertEquals(List.of(new PodRoute(ip("0.0.0.0"), 0, null), new PodRoute(ip("192.168.0.0"), 16, ip("10.1.0.200")),
                new PodRoute(ip("fd00:9::"), 64, null)), config.routes());
        assertEquals(2, config.routesOf(true).size());
        assertEquals(1, config.routesOf(false).size());
    }

    @Test
    void invalidCidrsAreRefused() {
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.1/24\"}]]}", "did you mean 10.0.0.0/24");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/33\"}]]}", "out of range");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0\"}]]}", "not in CIDR form");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"example.com/24\"}]]}", "not an IP address");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/31\"}]]}", "too small");
        assertInvalid("{\"subnet\": \"300.1.2.0/24\"}", "not an IP address");
        assertInvalid("{\"ranges\": [[{\"rangeStart\": \"10.0.0.5\"}]]}", "needs a subnet");
        assertInvalid("{\"routes\": [{\"dst\": \"10.9.0.0\"}]}", "routes[0]");
        assertInvalid("{\"routes\": [{\"gw\": \"10.77.0.1\"}]}", "routes[0] has no dst");
    }

    @Test
    void gatewayAndRangeBoundsMustBeInsideTheSubnet() {
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.1.1\"}]]}",
                "gateway 10.0.1.1 is not inside 10.0.0.0/24");
        assertInvalid("{\"subnet\": \"10.0.0.0/24\", \"rangeStart\": \"10.0.5.1\"}", "rangeStart 10.0.5.1 is not inside");
        assertInvalid("{\"subnet\": \"10.0.0.0/24\", \"rangeEnd\": \"10.0.0.255\"}", "broadcast address");
        assertInvalid("{\"subnet\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.0\"}", "network address");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"fd00::/64\", \"gateway\": \"fd01::1\"}]]}", "is not inside");
        assertInvalid("{\"gateway\": \"10.77.0.1\"}", "gateway is given without a subnet");
    }

    @Test
    void rangeStartAfterRangeEndIsRefused() {
        assertInvalid("{\"subnet\": \"10.0.0.0/24\", \"rangeStart\": \"10.0.0.50\", \"rangeEnd\": \"10.0.0.40\"}",
                "rangeStart 10.0.0.50 is after rangeEnd 10.0.0.40");
        assertInvalid("{\"subnet\": \"10.0.0.0/24\", \"rangeStart\": \"10.0.0.9\", \"rangeEnd\": \"10.0.0.9\","
                + " \"gateway\": \"10.0.0.9\"}", "holds no address but its gateway");
    }

    @Test
    void overlappingRangesAreRefusedWithinAndAcrossSets() {
        assertInvalid("""
                {"ranges": [[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.20"},
                             {"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.20", "rangeEnd": "10.0.0.30"}]]}""",
                "ranges overlap");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/16\"}], [{\"subnet\": \"10.0.3.0/24\"}]]}", "ranges overlap");
        assertInvalid("{\"subnet\": \"fd00::/64\", \"ranges\": [[{\"subnet\": \"fd00::/120\"}]]}", "ranges overlap");
        // Disjoint pieces of one subnet are fine.
        IpamConfig fine = parse("""
                {"ranges": [[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.19"},
                             {"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.20", "rangeEnd": "10.0.0.30"}]]}""");
        assertEquals(1, fine.rangeSets().size());
    }

    @Test
    void aRangeSetIsOneFamilyAndRoutesNeedAnAddressOfTheirFamily() {
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}, {\"subnet\": \"fd00::/64\"}]]}", "mixes IPv4 and IPv6");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]], \"routes\": [{\"dst\": \"fd00:9::/64\"}]}",
                "no range set gives an address of that family");
        assertInvalid("{\"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]], \"routes\": [{\"dst\": \"10.9.0.0/16\", \"gw\": \"fd00::1\"}]}",
                "other family");
    }

    @Test
    void malformedJsonAndWrongTypesAreRefused() {
        assertInvalid("{not json", "not valid JSON");
        assertInvalid("[]", "must be a JSON object");
        assertInvalid("{\"type\": \"dhcp\"}", "type 'dhcp'");
        assertInvalid("{\"ranges\": {\"subnet\": \"10.0.0.0/24\"}}", "ranges must be a list");
        assertInvalid("{\"ranges\": [[]]}", "ranges[0] must be a non-empty list");
        assertInvalid("{\"ranges\": [{\"subnet\": \"10.0.0.0/24\"}]}", "ranges[0] must be a non-empty list");
        assertInvalid("{\"ranges\": [[{\"subnet\": 10}]]}", "ranges[0][0].subnet must be a string");
        assertInvalid("{\"routes\": {}}", "routes must be a list");
    }

    @Test
    void agentConfigurationHasOneRange() {
        IpamConfig config = IpamConfig.single("10.5.0.0/29", "10.5.0.6");
        AddressRange range = config.rangeSets().getFirst().ranges().getFirst();
        assertEquals(ip("10.5.0.6"), range.gateway());
        assertEquals(5, range.capacity().intValue());
    }
}
