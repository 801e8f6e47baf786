package io.patu.egress.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * IP forwarding, which egress needs: a pod's packet to the outside is routed by the node from the bridge to
 * its uplink. The reference bridge plugin turns it on for the families of the addresses it hands out, and so
 * does this bundle, when the first pod of a family appears (an IPv4-only device never gets IPv6 forwarding).
 * It is never turned off again: other software on the host (podman, Docker, a VPN) relies on it as well, and
 * the reference plugins leave it on too.
 */
final class Forwarding {
    private static final Logger LOG = Logger.getLogger(Forwarding.class.getName());
    static final Path IPV4 = Path.of("/proc/sys/net/ipv4/ip_forward");
    static final Path IPV6 = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");
    private static final Path IPV6_CONF = Path.of("/proc/sys/net/ipv6/conf");

    private Forwarding() {
    }

    static boolean enabled(boolean ipv4) {
        try {
            return "1".equals(Files.readString(ipv4 ? IPV4 : IPV6).strip());
        } catch (IOException e) {
            return false;
        }
    }

    /** Turns forwarding on for the family if it is off; says so in the log. */
    static void enable(boolean ipv4) {
        if (enabled(ipv4)) {
            return;
        }
        if (!ipv4) {
            // With forwarding on, the kernel ignores router advertisements on interfaces with accept_ra=1: a host
            // that learns its IPv6 default route by SLAAC loses it when that route expires. Say which ones.
            List<String> learning = acceptingRouterAdvertisements();
            if (!learning.isEmpty()) {
                LOG.warning(() -> "turning IPv6 forwarding on: " + String.join(", ", learning) + " accept router "
                        + "advertisements only while forwarding is off (accept_ra=1); set accept_ra=2 on them if the host "
                        + "learns its IPv6 routes that way");
            }
        }
        Path file = ipv4 ? IPV4 : IPV6;
        try {
            Files.writeString(file, "1");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot turn " + (ipv4 ? "IPv4" : "IPv6") + " forwarding on (" + file + ")", e);
        }
        LOG.info(() -> (ipv4 ? "IPv4" : "IPv6") + " forwarding turned on (" + file + "), so that pods reach beyond the node");
    }

    private static List<String> acceptingRouterAdvertisements() {
        List<String> names = new ArrayList<>();
        try (Stream<Path> interfaces = Files.list(IPV6_CONF)) {
            for (Path dir : interfaces.sorted().toList()) {
                String name = dir.getFileName().toString();
                if (name.equals("all") || name.equals("default") || name.equals("lo")) {
                    continue;
                }
                try {
                    if ("1".equals(Files.readString(dir.resolve("accept_ra")).strip())) {
                        names.add(name);
                    }
                } catch (IOException e) {
                    // gone while listing
                }
            }
        } catch (IOException e) {
            // no IPv6 on this host: nothing to warn about
        }
        return names;
    }
}
