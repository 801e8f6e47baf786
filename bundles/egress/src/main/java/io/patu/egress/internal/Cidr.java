package io.patu.egress.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * A network prefix with its host bits cleared, as nftables takes it in an interval set.
 *
 * @param network      the prefix's first address
 * @param prefixLength its length
 */
record Cidr(InetAddress network, int prefixLength) implements Comparable<Cidr> {
    Cidr {
        int max = network instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for " + network.getHostAddress());
        }
        network = masked(network, prefixLength);
    }

    /** The prefix {@code address} lies in: what a pod address and its range's prefix length make. */
    static Cidr of(InetAddress address, int prefixLength) {
        return new Cidr(address, prefixLength);
    }

    /** Parses {@code a.b.c.d/n}, {@code x::/n}, or a bare address (a /32 or /128). */
    static Cidr parse(String text) {
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String literal = slash < 0 ? trimmed : trimmed.substring(0, slash);
        InetAddress address;
        if (!literal.contains(":") && literal.split("\\.", -1).length != 4) {
            // InetAddress also takes the old shorthand forms (10.1 for 10.0.0.1), which nobody means here.
            throw new IllegalArgumentException("'" + text + "' is not an IP prefix (a.b.c.d/n or x::/n)");
        }
        try {
            address = InetAddress.ofLiteral(literal);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP prefix (a.b.c.d/n or x::/n)");
        }
        int max = address instanceof Inet4Address ? 32 : 128;
        int length = max;
        if (slash >= 0) {
            try {
                length = Integer.parseInt(trimmed.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' has no prefix length after '/'");
            }
        }
        return new Cidr(address, length);
    }

    boolean isIpv4() {
        return network instanceof Inet4Address;
    }

    private static InetAddress masked(InetAddress address, int prefixLength) {
        byte[] bytes = address.getAddress();
        for (int bit = prefixLength; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int compareTo(Cidr other) {
        int byAddress = Arrays.compareUnsigned(network.getAddress(), other.network.getAddress());
        return byAddress != 0 ? byAddress : Integer.compare(prefixLength, other.prefixLength);
    }

    @Override
    public String toString() {
        return text(network) + "/" + prefixLength;
    }

    /** IPv6 in its short form (RFC 5952: the longest run of zero groups as "::"), as nft prints it. */
    static String text(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] bytes = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (bytes[2 * i] & 0xff) << 8 | bytes[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!out.isEmpty() && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }
}
