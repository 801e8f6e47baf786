package io.patu.lifecycle.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.json.JsonTrees;
import io.patu.kernel.netlink.Address;
import io.patu.kernel.netlink.Link;
import io.patu.kernel.netlink.Route;
import io.patu.kernel.netlink.RtNetlink;

/**
 * CHECK against the {@code prevResult} the runtime passes (spec 0.4.0 and later): the result must still
 * describe the attachment Patu made (its interface in its sandbox, its MAC, its addresses and gateways),
 * and the kernel must still hold what the result says (the interface's MAC, every address on it, every
 * route in the pod's namespace). The first mismatch is the error; its message names what differs.
 */
final class PrevResultCheck {
    /** prevResult does not describe the attachment Patu recorded. */
    static final int RESULT_MISMATCH = io.patu.api.CniError.RESULT_MISMATCH;

    private PrevResultCheck() {
    }

    /** What the kernel holds for a pod, read once: the pod interface's MAC, addresses and the netns routes. */
    record Observed(String hostMac, String podMac, List<Address> podAddresses, List<Route> podRoutes) {
        static Observed read(Pod pod) {
            String hostMac;
            try (RtNetlink host = RtNetlink.open()) {
                hostMac = host.link(pod.hostVeth()).map(Link::mac).orElse(null);
            }
            try (RtNetlink inPod = RtNetlink.openIn(Path.of(pod.netns()))) {
                Link link = inPod.link(pod.id().ifName()).orElse(null);
                List<Route> routes = new ArrayList<>(inPod.routes(RtNetlink.AF_INET));
                routes.addAll(inPod.routes(RtNetlink.AF_INET6));
                return new Observed(hostMac, link == null ? null : link.mac(),
                        link == null ? List.of() : inPod.addresses(pod.id().ifName()), routes);
            }
        }
    }

    /** One entry of {@code ips} that concerns the pod's interface. */
    record ResultIp(InetAddress address, int prefixLength, InetAddress gateway, String cidr) {
    }

    /** One entry of {@code routes}; gateway null when the result leaves it to the plugin. */
    record ResultRoute(InetAddress destination, int prefixLength, InetAddress gateway, String text) {
    }

    /** Checks prevResult against the recorded pod and then against the kernel; throws on the first mismatch. */
    static void check(JsonNode prevResult, Pod pod, boolean ipsCarryVersion, Observed seen) {
        String ifName = pod.id().ifName();
        JsonNode interfaces = array(prevResult, "interfaces");
        int podIndex = -1;
        JsonNode hostEntry = null;
        for (int i = 0; i < interfaces.size(); i++) {
            JsonNode entry = interfaces.get(i);
            if (!entry.isObject()) {
                throw malformed("interfaces[" + i + "] is not an object");
            }
            String name = entry.path("name").asText("");
            String sandbox = entry.path("sandbox").asText("");
            if (name.equals(ifName) && sandbox.equals(pod.netns())) {
                podIndex = i;
            } else if (name.equals(pod.hostVeth()) && sandbox.isEmpty()) {
                hostEntry = entry;
            }
        }
        if (podIndex < 0) {
            throw mismatch("prevResult lists no interface " + ifName + " in sandbox " + CniRequest.printable(pod.netns()));
        }
        JsonNode podEntry = interfaces.get(podIndex);
        String resultMac = podEntry.path("mac").asText("");
        if (!resultMac.isEmpty() && !resultMac.equalsIgnoreCase(pod.mac())) {
            throw mismatch("prevResult says " + ifName + " has MAC " + CniRequest.printable(resultMac)
                    + ", Patu gave it " + pod.mac());
        }
        if (hostEntry != null) {
            String hostMac = hostEntry.path("mac").asText("");
            if (seen.hostMac() == null) {
                throw kernel("host veth " + pod.hostVeth() + " from prevResult is missing");
            }
            if (!hostMac.isEmpty() && !hostMac.equalsIgnoreCase(seen.hostMac())) {
                throw kernel("host veth " + pod.hostVeth() + " has MAC " + seen.hostMac() + ", prevResult says "
                        + CniRequest.printable(hostMac));
            }
        }

        List<ResultIp> ips = ips(prevResult, podIndex, ipsCarryVersion);
        for (ResultIp ip : ips) {
            PodAddress given = pod.addresses().stream().filter(a -> a.address().equals(ip.address())).findFirst()
                    .orElseThrow(() -> mismatch("prevResult gives " + ifName + " the address " + ip.cidr()
                            + ", which Patu did not give it (it has " + cidrs(pod) + ")"));
            if (given.prefixLength() != ip.prefixLength()) {
                throw mismatch("prevResult says " + ip.cidr() + ", Patu gave "
                        + IpText.cidr(given.address(), given.prefixLength()));
            }
            if (ip.gateway() != null && !ip.gateway().equals(given.gateway())) {
                throw mismatch("prevResult says the gateway of " + ip.cidr() + " is " + IpText.of(ip.gateway())
                        + ", Patu set " + IpText.of(given.gateway()));
            }
        }
        for (PodAddress address : pod.addresses()) {
            if (ips.stream().noneMatch(ip -> ip.address().equals(address.address()))) {
                throw mismatch("prevResult does not list " + IpText.cidr(address.address(), address.prefixLength())
                        + ", the address Patu gave " + ifName);
            }
        }

        // The kernel must hold what the result says.
        if (seen.podMac() == null) {
            throw kernel("interface " + ifName + " is missing in " + pod.netns());
        }
        if (!resultMac.isEmpty() && !resultMac.equalsIgnoreCase(seen.podMac())) {
            throw kernel("interface " + ifName + " has MAC " + seen.podMac() + ", prevResult says " + resultMac);
        }
        for (ResultIp ip : ips) {
            if (!seen.podAddresses().contains(new Address(ip.address(), ip.prefixLength()))) {
                throw kernel("address " + ip.cidr() + " from prevResult is missing on " + ifName);
            }
        }
        for (ResultRoute route : routes(prevResult)) {
            boolean present = seen.podRoutes().stream().anyMatch(r -> r.prefixLength() == route.prefixLength()
                    && (route.prefixLength() == 0 ? r.destination() == null || r.destination().isAnyLocalAddress()
                            : route.destination().equals(r.destination()))
                    && sameFamily(r, route)
                    && (route.gateway() == null || route.gateway().equals(r.gateway())));
            if (!present) {
                throw kernel("route " + route.text() + " from prevResult is missing in " + pod.netns());
            }
        }
    }

    private static boolean sameFamily(Route present, ResultRoute wanted) {
        InetAddress probe = present.destination() != null ? present.destination() : present.gateway();
        return probe == null || (probe instanceof Inet4Address) == (wanted.destination() instanceof Inet4Address);
    }

    private static List<ResultIp> ips(JsonNode prevResult, int podIndex, boolean carryVersion) {
        JsonNode ips = array(prevResult, "ips");
        List<ResultIp> ours = new ArrayList<>();
        for (int i = 0; i < ips.size(); i++) {
            JsonNode ip = ips.get(i);
            if (!ip.isObject()) {
                throw malformed("ips[" + i + "] is not an object");
            }
            JsonNode index = ip.get("interface");
            if (index != null && !index.isNull() && !index.canConvertToInt()) {
                throw malformed("ips[" + i + "].interface is not an index");
            }
            if (index == null || index.isNull() || index.asInt() != podIndex) {
                continue;
            }
            String cidr = ip.path("address").asText("");
            int slash = cidr.indexOf('/');
            InetAddress address = literal(slash < 0 ? "" : cidr.substring(0, slash), "ips[" + i + "].address");
            int prefix = prefix(cidr.substring(slash + 1), address, "ips[" + i + "].address");
            JsonNode gatewayNode = ip.get("gateway");
            InetAddress gateway = gatewayNode == null || gatewayNode.isNull() ? null
                    : literal(gatewayNode.asText(""), "ips[" + i + "].gateway");
            if (carryVersion) {
                String expected = address instanceof Inet4Address ? "4" : "6";
                String version = ip.path("version").asText("");
                if (!version.equals(expected)) {
                    throw malformed("ips[" + i + "].version is \"" + CniRequest.printable(version) + "\" for "
                            + CniRequest.printable(cidr) + ", expected \"" + expected + "\"");
                }
            }
            ours.add(new ResultIp(address, prefix, gateway, IpText.of(address) + "/" + prefix));
        }
        return ours;
    }

    private static List<ResultRoute> routes(JsonNode prevResult) {
        JsonNode routes = array(prevResult, "routes");
        List<ResultRoute> parsed = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            JsonNode route = routes.get(i);
            String dst = route.path("dst").asText("");
            int slash = dst.indexOf('/');
            InetAddress destination = literal(slash < 0 ? "" : dst.substring(0, slash), "routes[" + i + "].dst");
            int prefix = prefix(dst.substring(slash + 1), destination, "routes[" + i + "].dst");
            JsonNode gw = route.get("gw");
            InetAddress gateway = gw == null || gw.isNull() ? null : literal(gw.asText(""), "routes[" + i + "].gw");
            parsed.add(new ResultRoute(destination, prefix, gateway, IpText.of(destination) + "/" + prefix
                    + (gateway == null ? "" : " via " + IpText.of(gateway))));
        }
        return parsed;
    }

    private static JsonNode array(JsonNode result, String field) {
        JsonNode node = result.get(field);
        if (node == null || node.isNull()) {
            return JsonTrees.array();
        }
        if (!node.isArray()) {
            throw malformed("\"" + field + "\" is not a list");
        }
        return node;
    }

    private static InetAddress literal(String text, String where) {
        try {
            return InetAddress.ofLiteral(text);
        } catch (IllegalArgumentException e) {
            throw malformed(where + " \"" + CniRequest.printable(text) + "\" is not an IP address");
        }
    }

    private static int prefix(String text, InetAddress address, String where) {
        int max = address instanceof Inet4Address ? 32 : 128;
        try {
            int prefix = Integer.parseInt(text);
            if (prefix >= 0 && prefix <= max) {
                return prefix;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw malformed(where + " has no valid prefix length");
    }

    private static String cidrs(Pod pod) {
        return String.join(", ", pod.addresses().stream().map(a -> IpText.cidr(a.address(), a.prefixLength())).toList());
    }

    private static PatuException malformed(String what) {
        return new PatuException(CniError.INVALID_NETWORK_CONFIG, "prevResult is not a valid CNI result: " + what);
    }

    private static PatuException mismatch(String what) {
        return new PatuException(RESULT_MISMATCH, what);
    }

    private static PatuException kernel(String what) {
        return new PatuException(CniVerbs.KERNEL_FAILURE, "the attachment is not as prevResult says: " + what);
    }
}
