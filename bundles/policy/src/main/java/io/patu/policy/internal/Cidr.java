package io.patu.policy.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An address prefix, IPv4 or IPv6, with the host bits cleared. Parsed from literals only: no name is ever
 * resolved.
 */
record Cidr(InetAddress address, int length) {
    Cidr {
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length " + length + " out of range");
        }
        address = masked(address, length);
    }

    static Cidr host(InetAddress address) {
        return new Cidr(address, address.getAddress().length * 8);
    }

    /** {@code a.b.c.d/n} or {@code x::y/n}; the host bits must be zero as Kubernetes requires. */
    static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR (ADDRESS/LENGTH)");
        }
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(text.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR: the address is not an IP literal");
        }
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR: the prefix length is not a number");
        }
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max || text.substring(slash + 1).startsWith("+")) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR: the prefix length must be 0.." + max);
        }
        Cidr cidr = new Cidr(address, length);
        if (!cidr.address.equals(address)) {
            throw new IllegalArgumentException("'" + text + "' has host bits set; the network is " + cidr);
        }
        return cidr;
    }

    boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    int maxLength() {
        return isIpv4() ? 32 : 128;
    }

    boolean isHost() {
        return length == maxLength();
    }

    boolean contains(InetAddress other) {
        return contains(other.getAddress());
    }

    /** Compares the first {@code length} bits without building addresses: the engine calls this a lot. */
    private boolean contains(byte[] other) {
        byte[] mine = address.getAddress();
        if (other.length != mine.length) {
            return false;
        }
        int full = length / 8;
        for (int i = 0; i < full; i++) {
            if (other[i] != mine[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (other[full] & mask) == (mine[full] & mask);
    }

    /** Whether every address of {@code other} is in this prefix. */
    boolean contains(Cidr other) {
        return other.length >= length && contains(other.address.getAddress());
    }

    /**
     * The address with the bits after {@code length} cleared: the same instance when none is set, which is
     * always the case for a host prefix (the flattener makes one for every selected pod on every change).
     */
    private static InetAddress masked(InetAddress address, int length) {
        byte[] bytes = address.getAddress(); // a copy of its own
        boolean cleared = false;
        for (int bit = length; bit < bytes.length * 8; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((bytes[bit / 8] & mask) != 0) {
                bytes[bit / 8] &= (byte) ~mask;
                cleared = true;
            }
        }
        if (!cleared) {
            return address;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
