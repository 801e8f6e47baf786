package io.patu.api;

import java.util.Objects;

/**
 * A container port with a name ({@code spec.containers[].ports[]} of a Kubernetes Pod), which a
 * NetworkPolicy may name instead of a number.
 *
 * @param name     the port's name (an IANA_SVC_NAME: at most 15 characters)
 * @param protocol {@code TCP}, {@code UDP} or {@code SCTP}
 * @param port     the container port, 1..65535
 */
public record NamedPort(String name, String protocol, int port) {
    public NamedPort {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 1..65535");
        }
    }
}
