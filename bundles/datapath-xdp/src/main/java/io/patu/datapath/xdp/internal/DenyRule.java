package io.patu.datapath.xdp.internal;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One entry of the ingress deny list: packets from {@code network/prefixLength}, of {@code protocol} (0: any),
 * to a destination port in {@code portFirst..portLast} (both 0: any port). Written as text
 * {@code CIDR [PROTOCOL [PORT | FIRST-LAST]]}, e.g. {@code 192.0.2.0/24}, {@code 2001:db8::/32 udp},
 * {@code 10.9.0.0/16 tcp 8000-8080}.
 */
record DenyRule(InetAddress network, int prefixLength, int protocol, int portFirst, int portLast) {
    static final int TCP = 6;
    static final int UDP = 17;
    private static final Map<String, Integer> PROTOCOLS = Map.of("any", 0, "icmp", 1, "tcp", TCP, "udp", UDP,
            "icmpv6", 58);

    DenyRule {
        int bits = network instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length /" + prefixLength + " out of range for "
                    + network.getHostAddress());
        }
        if (!new BigInteger(1, network.getAddress()).and(hostBits(bits, prefixLength)).equals(BigInteger.ZERO)) {
            throw new IllegalArgumentException(network.getHostAddress() + "/" + prefixLength
                    + " has host bits set; the network is " + masked(network, prefixLength).getHostAddress() + "/"
                    + prefixLength);
        }
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol " + protocol + " is not 0..255");
        }
        if (portFirst < 0 || portLast > 65535 || portFirst > portLast || (portLast != 0 && portFirst == 0)) {
            throw new IllegalArgumentException("port range " + portFirst + "-" + portLast + " is not within 1..65535");
        }
        if (portLast != 0 && protocol != TCP && protocol != UDP) {
            throw new IllegalArgumentException("ports need protocol tcp or udp, not " + protocolName(protocol));
        }
    }

    /** Parses the text form; the message of the exception says what is wrong with it. */
    static DenyRule parse(String text) {
        List<String> words = List.of(text.strip().split("\\s+"));
        if (text.isBlank() || words.size() > 3) {
            throw new IllegalArgumentException("deny rule '" + text + "': expected CIDR [PROTOCOL [PORT|FIRST-LAST]]");
        }
        try {
            String cidr = words.get(0);
            int slash = cidr.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("'" + cidr + "' is not a CIDR (ADDRESS/PREFIX)");
            }
            InetAddress network;
            try {
                network = InetAddress.ofLiteral(cidr.substring(0, slash));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + cidr.substring(0, slash) + "' is not an IP address");
            }
            int prefix = number(cidr.substring(slash + 1), "prefix length");
            int protocol = words.size() > 1 ? protocol(words.get(1)) : 0;
            int first = 0;
            int last = 0;
            if (words.size() > 2) {
                String ports = words.get(2);
                int dash = ports.indexOf('-');
                first = number(dash < 0 ? ports : ports.substring(0, dash), "port");
                last = dash < 0 ? first : number(ports.substring(dash + 1), "port");
                if (first == 0) {
                    throw new IllegalArgumentException("port 0 cannot be matched");
                }
            }
            return new DenyRule(network, prefix, protocol, first, last);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("deny rule '" + text.strip() + "': " + e.getMessage(), e);
        }
    }

    private static int protocol(String word) {
        Integer known = PROTOCOLS.get(word.toLowerCase(Locale.ROOT));
        return known != null ? known : number(word, "protocol (any, tcp, udp, icmp, icmpv6 or 0..255)");
    }

    private static int number(String word, String what) {
        try {
            return Integer.parseInt(word);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + word + "' is not a " + what);
        }
    }

    boolean isIpv4() {
        return network instanceof Inet4Address;
    }

    /** The canonical text form, which {@link #parse} reads back. */
    String text() {
        StringBuilder out = new StringBuilder(network.getHostAddress()).append('/').append(prefixLength);
        if (protocol != 0) {
            out.append(' ').append(protocolName(protocol));
        }
        if (portLast != 0) {
            out.append(' ').append(portFirst);
            if (portLast != portFirst) {
                out.append('-').append(portLast);
            }
        }
        return out.toString();
    }

    /**
     * Whether some packet matches both rules. Overlapping rules are refused: each packet is counted by the
     * one rule that drops it, and removing a rule then never leaves a narrower copy of it behind unnoticed.
     */
    boolean overlaps(DenyRule other) {
        if (isIpv4() != other.isIpv4()) {
            return false;
        }
        int common = Math.min(prefixLength, other.prefixLength);
        if (!masked(network, common).equals(masked(other.network, common))) {
            return false;
        }
        if (protocol != 0 && other.protocol != 0 && protocol != other.protocol) {
            return false;
        }
        if (portLast == 0 || other.portLast == 0) {
            return true;
        }
        return portFirst <= other.portLast && other.portFirst <= portLast;
    }

    /** The prefix mask as address bytes (network order). */
    byte[] maskBytes() {
        int bytes = isIpv4() ? 4 : 16;
        byte[] mask = new byte[bytes];
        for (int bit = 0; bit < prefixLength; bit++) {
            mask[bit / 8] |= (byte) (0x80 >>> (bit % 8));
        }
        return mask;
    }

    static String protocolName(int protocol) {
        return PROTOCOLS.entrySet().stream().filter(e -> e.getValue() == protocol).map(Map.Entry::getKey)
                .findFirst().orElse(Integer.toString(protocol));
    }

    private static BigInteger hostBits(int bits, int prefixLength) {
        return BigInteger.ONE.shiftLeft(bits - prefixLength).subtract(BigInteger.ONE);
    }

    private static InetAddress masked(InetAddress address, int prefixLength) {
        int bits = address instanceof Inet4Address ? 32 : 128;
        BigInteger value = new BigInteger(1, address.getAddress()).andNot(hostBits(bits, prefixLength));
        byte[] raw = value.toByteArray();
        byte[] out = new byte[bits / 8];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        try {
            return InetAddress.getByAddress(out);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return text();
    }
}
