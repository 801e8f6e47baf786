package io.patu.lifecycle.internal;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodRoute;
import io.patu.api.json.JsonTrees;

/** The JSON documents the CNI spec defines as plugin output. */
final class CniResults {
    private CniResults() {
    }

    /**
     * ADD's result, shaped for {@code cniVersion}: host veth (index 0) and pod interface (index 1, with its
     * sandbox, which chained plugins such as bandwidth and tuning look for), the pod's addresses (each
     * naming interface 1, and before 1.0.0 carrying {@code version} "4" or "6"), its default routes and the
     * extra routes of its ranges. From 1.1.0 on, the interfaces carry their MTU and the routes their MTU
     * metric where they have one (docs/mtu.md).
     */
    static byte[] addResult(String cniVersion, PodPlumbing.Wired wired) {
        Pod pod = wired.pod();
        boolean ipVersions = NetworkConfig.SUPPORTED_VERSIONS.indexOf(cniVersion)
                < NetworkConfig.SUPPORTED_VERSIONS.indexOf("1.0.0");
        boolean mtus = NetworkConfig.SUPPORTED_VERSIONS.indexOf(cniVersion)
                >= NetworkConfig.SUPPORTED_VERSIONS.indexOf("1.1.0");
        ObjectNode result = JsonTrees.object();
        result.put("cniVersion", cniVersion);
        ArrayNode interfaces = result.putArray("interfaces");
        ObjectNode hostVeth = interfaces.addObject().put("name", pod.hostVeth()).put("mac", wired.hostVethMac());
        ObjectNode podInterface = interfaces.addObject().put("name", pod.id().ifName()).put("mac", pod.mac())
                .put("sandbox", pod.netns());
        if (mtus) {
            hostVeth.put("mtu", wired.mtu());
            podInterface.put("mtu", wired.mtu());
        }
        ArrayNode ips = result.putArray("ips");
        ArrayNode routes = result.putArray("routes");
        Set<String> routed = new HashSet<>();
        for (PodAddress address : pod.addresses()) {
            ObjectNode ip = ips.addObject();
            if (ipVersions) {
                ip.put("version", address.isIpv4() ? "4" : "6");
            }
            String gateway = IpText.of(address.gateway());
            ip.put("address", IpText.cidr(address.address(), address.prefixLength())).put("gateway", gateway).put("interface", 1);
            PodRoute defaultRoute = new PodRoute(InetAddress.ofLiteral(address.isIpv4() ? "0.0.0.0" : "::"), 0, null);
            addRoute(routes, routed, address.isIpv4() ? "0.0.0.0/0" : "::/0", gateway,
                    mtus ? wired.routeMtu(defaultRoute) : 0);
            for (PodRoute route : address.routes()) {
                addRoute(routes, routed, IpText.cidr(route.destination(), route.prefixLength()),
                        route.gateway() == null ? gateway : IpText.of(route.gateway()), mtus ? wired.routeMtu(route) : 0);
            }
        }
        result.putObject("dns");
        return bytes(result);
    }

    private static void addRoute(ArrayNode routes, Set<String> routed, String destination, String gateway, int mtu) {
        if (routed.add(destination + " " + gateway)) {
            ObjectNode route = routes.addObject().put("dst", destination).put("gw", gateway);
            if (mtu > 0) {
                route.put("mtu", mtu);
            }
        }
    }

    static byte[] versionResult(String cniVersion) {
        ObjectNode result = JsonTrees.object();
        result.put("cniVersion", cniVersion);
        ArrayNode supported = result.putArray("supportedVersions");
        NetworkConfig.SUPPORTED_VERSIONS.forEach(supported::add);
        return bytes(result);
    }

    static byte[] error(String cniVersion, int code, String message, String details) {
        ObjectNode error = JsonTrees.object();
        error.put("cniVersion", cniVersion);
        error.put("code", code);
        error.put("msg", message);
        if (details != null && !details.isEmpty()) {
            error.put("details", details);
        }
        return bytes(error);
    }

    private static byte[] bytes(ObjectNode node) {
        return JsonTrees.toText(node).concat("\n").getBytes(StandardCharsets.UTF_8);
    }
}
