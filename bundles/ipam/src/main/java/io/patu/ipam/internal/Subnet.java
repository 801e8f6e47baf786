package io.patu.ipam.internal;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IP subnet in CIDR form. Addresses are handled as unsigned integers so that IPv4 and IPv6 share
 * one piece of arithmetic.
 */
record Subnet(InetAddress network, int prefixLength) {

    Subnet {
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length /" + prefixLength + " is out of range");
        }
        if (!toNumber(network).equals(toNumber(network).and(mask(bits, prefixLength)))) {
            throw new IllegalArgumentException(network.getHostAddress() + "/" + prefixLength
                    + " has host bits set; did you mean " + toAddress(toNumber(network).and(mask(bits, prefixLength)), bits / 8).getHostAddress()
                    + "/" + prefixLength + "?");
        }
    }

    /** Parses "a.b.c.d/n" or "x::/n"; only literal addresses are accepted, never host names. */
    static Subnet parse(String cidr) {
        Cidr parts = Cidr.split(cidr);
        return new Subnet(parts.address(), parts.prefix());
    }

    /** A CIDR string's address and prefix length, neither checked against the other yet. */
    private record Cidr(InetAddress address, int prefix) {
        static Cidr split(String cidr) {
            int slash = cidr.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("'" + cidr + "' is not in CIDR form (address/prefix)");
            }
            InetAddress address = parseLiteral(cidr.substring(0, slash));
            try {
                return new Cidr(address, Integer.parseInt(cidr.substring(slash + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + cidr + "' has no numeric prefix length");
            }
        }
    }

    /** Parses an IP literal without ever resolving a name. */
    static InetAddress parseLiteral(String text) {
        boolean looksLikeIp = text.matches("[0-9.]+") && text.chars().filter(c -> c == '.').count() == 3
                || text.contains(":") && text.matches("[0-9a-fA-F:.]+");
        if (!looksLikeIp) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
        try {
            return InetAddress.ofLiteral(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
    }

    boolean isIpv4() {
        return network instanceof Inet4Address;
    }

    private int bits() {
        return network.getAddress().length * 8;
    }

    /** The n-th address of the subnet (0 is the network address itself). */
    InetAddress address(BigInteger offset) {
        return toAddress(toNumber(network).add(offset), network.getAddress().length);
    }

    BigInteger offsetOf(InetAddress address) {
        return toNumber(address).subtract(toNumber(network));
    }

    boolean contains(InetAddress address) {
        if (address.getAddress().length != network.getAddress().length) {
            return false;
        }
        return toNumber(address).and(mask(bits(), prefixLength)).equals(toNumber(network));
    }

    /** Number of addresses in the subnet, network and broadcast included. */
    BigInteger size() {
        return BigInteger.ONE.shiftLeft(bits() - prefixLength);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    /** The last address of the subnet: the broadcast address for IPv4. */
    InetAddress lastAddress() {
        return address(size().subtract(BigInteger.ONE));
    }

    /** The subnet {@code cidr} names, its host bits cleared (routes are written that way: x::1/64). */
    static Subnet parseMasked(String cidr) {
        Cidr parts = Cidr.split(cidr);
        InetAddress address = parts.address();
        int prefix = parts.prefix();
        int bits = address.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix length /" + prefix + " of '" + cidr + "' is out of range");
        }
        return new Subnet(toAddress(toNumber(address).and(mask(bits, prefix)), bits / 8), prefix);
    }

    static BigInteger toNumber(InetAddress address) {
        return new BigInteger(1, address.getAddress());
    }

    private static BigInteger mask(int bits, int prefix) {
        BigInteger all = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        BigInteger host = BigInteger.ONE.shiftLeft(bits - prefix).subtract(BigInteger.ONE);
        return all.xor(host);
    }

    static InetAddress toAddress(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[length];
        int copy = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
        try {
            return InetAddress.getByAddress(out);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
