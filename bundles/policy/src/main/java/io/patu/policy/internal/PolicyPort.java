package io.patu.policy.internal;

/**
 * One entry of a rule's {@code ports}: a protocol and a port number (optionally up to {@code endPort}), a
 * port name resolved on the destination pod, or no port (every port of the protocol).
 *
 * @param protocol IP protocol number (6, 17, 132)
 * @param port     first port, or 0 when the entry names a port or gives none
 * @param endPort  last port, equal to {@code port} without endPort; 65535 when no port is given
 * @param name     the named port, or null
 */
record PolicyPort(int protocol, int port, int endPort, String name) {
    static final int TCP = 6;
    static final int UDP = 17;
    static final int SCTP = 132;

    static int protocolNumber(String name) {
        return switch (name) {
            case "TCP" -> TCP;
            case "UDP" -> UDP;
            case "SCTP" -> SCTP;
            default -> -1;
        };
    }

    static String protocolName(int number) {
        return switch (number) {
            case TCP -> "TCP";
            case UDP -> "UDP";
            case SCTP -> "SCTP";
            case PortRange.ANY_PROTOCOL -> "any";
            default -> String.valueOf(number);
        };
    }

    boolean named() {
        return name != null;
    }

    @Override
    public String toString() {
        String proto = protocolName(protocol);
        if (named()) {
            return name + "/" + proto;
        }
        if (port == 0) {
            return "*/" + proto;
        }
        return (endPort == port ? String.valueOf(port) : port + "-" + endPort) + "/" + proto;
    }
}
