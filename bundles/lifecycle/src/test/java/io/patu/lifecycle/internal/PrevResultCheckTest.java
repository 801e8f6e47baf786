package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.json.JsonTrees;
import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Route;

/** CHECK against prevResult: every kind of mismatch is an error that says what differs. No kernel involved. */
class PrevResultCheckTest {
    private static final Pod POD = CniVersionsTest.pod();
    private static final String HOST_MAC = "0a:00:00:00:00:01";

    private static Route route(String dst, int prefix, String gw) {
        return new Route(dst == null ? null : InetAddress.ofLiteral(dst), prefix, InetAddress.ofLiteral(gw), 2);
    }

    /** The kernel as ADD left it. */
    private static PrevResultCheck.Observed healthy() {
        return new PrevResultCheck.Observed(HOST_MAC, POD.mac(),
                List.of(new Address(InetAddress.ofLiteral("10.77.0.5"), 16), new Address(InetAddress.ofLiteral("fd00::5"), 64)),
                List.of(route(null, 0, "10.77.0.1"), route("192.168.0.0", 16, "10.77.0.1"), route(null, 0, "fd00::1")));
    }

    private static ObjectNode result(String version) throws Exception {
        return (ObjectNode) JsonTrees.read(CniResults.addResult(version, new PodPlumbing.Wired(POD, HOST_MAC, 65535, 1500, 1500)));
    }

    private static PatuException fails(ObjectNode prev, PrevResultCheck.Observed seen, int code, String... words) {
        PatuException e = assertThrows(PatuException.class, () -> PrevResultCheck.check(prev, POD, false, seen));
        assertEquals(code, e.code(), e.getMessage());
        for (String word : words) {
            assertTrue(e.getMessage().contains(word), "'" + word + "' in: " + e.getMessage());
        }
        return e;
    }

    private static ObjectNode edited(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode prev = result("1.0.0");
        edit.accept(prev);
        return prev;
    }

    @Test
    void ownResultMatches() throws Exception {
        assertDoesNotThrow(() -> PrevResultCheck.check(result("1.0.0"), POD, false, healthy()));
        assertDoesNotThrow(() -> PrevResultCheck.check(result("0.4.0"), POD, true, healthy()));
    }

    @Test
    void resultOfALaterPluginWithMoreInterfacesStillMatches() throws Exception {
        ObjectNode prev = result("1.0.0");
        // A plugin after Patu may add its own interface in front; ips then name the pod interface by its new index.
        ArrayNode interfaces = (ArrayNode) prev.get("interfaces");
        interfaces.insertObject(0).put("name", "dummy0");
        prev.get("ips").forEach(ip -> ((ObjectNode) ip).put("interface", 2));
        assertDoesNotThrow(() -> PrevResultCheck.check(prev, POD, false, healthy()));
    }

    @Test
    void interfaceMissingOrInAnotherSandbox() throws Exception {
        fails(edited(p -> ((ArrayNode) p.get("interfaces")).remove(1)), healthy(), PrevResultCheck.RESULT_MISMATCH,
                "no interface eth0");
        fails(edited(p -> ((ObjectNode) p.get("interfaces").get(1)).put("sandbox", "/run/netns/other")), healthy(),
                PrevResultCheck.RESULT_MISMATCH, "no interface eth0", "/run/netns/p1");
    }

    @Test
    void macDiffersFromWhatPatuGave() throws Exception {
        fails(edited(p -> ((ObjectNode) p.get("interfaces").get(1)).put("mac", "0a:0b:0c:0d:0e:0f")), healthy(),
                PrevResultCheck.RESULT_MISMATCH, "0a:0b:0c:0d:0e:0f", POD.mac());
    }

    @Test
    void addressOrGatewayDiffersFromWhatPatuGave() throws Exception {
        fails(edited(p -> ((ObjectNode) p.get("ips").get(0)).put("address", "10.77.0.9/16")), healthy(),
                PrevResultCheck.RESULT_MISMATCH, "10.77.0.9/16", "did not give");
        fails(edited(p -> ((ObjectNode) p.get("ips").get(0)).put("address", "10.77.0.5/24")), healthy(),
                PrevResultCheck.RESULT_MISMATCH, "10.77.0.5/24", "10.77.0.5/16");
        fails(edited(p -> ((ObjectNode) p.get("ips").get(0)).put("gateway", "10.77.0.254")), healthy(),
                PrevResultCheck.RESULT_MISMATCH, "10.77.0.254", "10.77.0.1");
        fails(edited(p -> ((ArrayNode) p.get("ips")).remove(1)), healthy(), PrevResultCheck.RESULT_MISMATCH,
                "does not list fd00::5/64");
    }

    @Test
    void kernelLostTheInterfaceAnAddressOrARoute() throws Exception {
        PrevResultCheck.Observed ok = healthy();
        fails(result("1.0.0"), new PrevResultCheck.Observed(HOST_MAC, null, List.of(), ok.podRoutes()),
                CniVerbs.KERNEL_FAILURE, "interface eth0 is missing");
        fails(result("1.0.0"), new PrevResultCheck.Observed(HOST_MAC, "0a:ff:ff:ff:ff:ff", ok.podAddresses(), ok.podRoutes()),
                CniVerbs.KERNEL_FAILURE, "0a:ff:ff:ff:ff:ff");
        fails(result("1.0.0"), new PrevResultCheck.Observed(null, POD.mac(), ok.podAddresses(), ok.podRoutes()),
                CniVerbs.KERNEL_FAILURE, "host veth patu0123456789");
        fails(result("1.0.0"), new PrevResultCheck.Observed(HOST_MAC, POD.mac(), ok.podAddresses().subList(0, 1), ok.podRoutes()),
                CniVerbs.KERNEL_FAILURE, "address fd00::5/64");
        List<Route> noExtraRoute = new ArrayList<>(ok.podRoutes());
        noExtraRoute.remove(1);
        fails(result("1.0.0"), new PrevResultCheck.Observed(HOST_MAC, POD.mac(), ok.podAddresses(), noExtraRoute),
                CniVerbs.KERNEL_FAILURE, "route 192.168.0.0/16 via 10.77.0.1");
        List<Route> otherGateway = List.of(route(null, 0, "10.77.0.254"), ok.podRoutes().get(1), ok.podRoutes().get(2));
        fails(result("1.0.0"), new PrevResultCheck.Observed(HOST_MAC, POD.mac(), ok.podAddresses(), otherGateway),
                CniVerbs.KERNEL_FAILURE, "route 0.0.0.0/0 via 10.77.0.1");
    }

    @Test
    void malformedPrevResultIsInvalidConfig() throws Exception {
        fails(edited(p -> p.put("ips", "10.77.0.5/16")), healthy(), CniError.INVALID_NETWORK_CONFIG, "\"ips\" is not a list");
        fails(edited(p -> ((ObjectNode) p.get("ips").get(0)).put("address", "ten/16")), healthy(),
                CniError.INVALID_NETWORK_CONFIG, "ips[0].address");
        fails(edited(p -> ((ObjectNode) p.get("ips").get(0)).put("address", "10.77.0.5/33")), healthy(),
                CniError.INVALID_NETWORK_CONFIG, "prefix");
        fails(edited(p -> ((ObjectNode) p.get("routes").get(0)).put("dst", "default")), healthy(),
                CniError.INVALID_NETWORK_CONFIG, "routes[0].dst");
    }

    @Test
    void beforeOneZeroIpsMustCarryTheirVersion() throws Exception {
        ObjectNode prev = result("0.4.0");
        ((ObjectNode) prev.get("ips").get(1)).put("version", "4");
        PatuException e = assertThrows(PatuException.class, () -> PrevResultCheck.check(prev, POD, true, healthy()));
        assertEquals(CniError.INVALID_NETWORK_CONFIG, e.code());
        assertTrue(e.getMessage().contains("ips[1].version"), e.getMessage());
    }
}
