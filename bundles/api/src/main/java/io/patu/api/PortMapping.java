package io.patu.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * A published port: what the runtime asks for in {@code runtimeConfig.portMappings} (the CNI
 * {@code portMappings} capability: podman {@code -p}, kubelet {@code hostPort}). Traffic to the node's
 * address and {@code hostPort} goes to the pod's {@code containerPort}.
 *
 * @param hostIp        the node address the port is published on; null for every address of the node
 * @param hostPort      1..65535
 * @param containerPort 1..65535
 * @param protocol      {@link #TCP} or {@link #UDP} (lower case, as CNI spells it)
 */
public record PortMapping(InetAddress hostIp, int hostPort, int containerPort, String protocol) {
    public static final String TCP = "tcp";
    public static final String UDP = "udp";

    public PortMapping {
        if (hostPort < 1 || hostPort > 65535) {
            throw new IllegalArgumentException("hostPort " + hostPort + " is not in 1..65535");
        }
        if (containerPort < 1 || containerPort > 65535) {
            throw new IllegalArgumentException("containerPort " + containerPort + " is not in 1..65535");
        }
        protocol = protocol == null ? "" : protocol.toLowerCase(Locale.ROOT);
        if (!protocol.equals(TCP) && !protocol.equals(UDP)) {
            throw new IllegalArgumentException("protocol \"" + protocol + "\" is not tcp or udp");
        }
        if (hostIp != null && hostIp.isAnyLocalAddress()) {
            hostIp = null; // 0.0.0.0 and :: mean every address, as no hostIP does
        }
    }

    /** The node address it is published on; empty for every address of the node. */
    public Optional<InetAddress> host() {
        return Optional.ofNullable(hostIp);
    }

    /** True if it applies to the family of {@code address} (a mapping on every address applies to both). */
    public boolean appliesTo(InetAddress address) {
        return hostIp == null || (hostIp instanceof Inet4Address) == (address instanceof Inet4Address);
    }

    /** As operators write it: {@code [HOSTIP:]HOSTPORT->CONTAINERPORT/PROTOCOL}. */
    @Override
    public String toString() {
        String host = hostIp == null ? "" : (hostIp instanceof Inet4Address ? hostIp.getHostAddress()
                : "[" + hostIp.getHostAddress() + "]") + ":";
        return host + hostPort + "->" + containerPort + "/" + protocol;
    }
}
