package io.patu.api;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/** One address given to a pod interface, with the prefix and gateway of the range it came from. */
public record PodAddress(InetAddress address, int prefixLength, InetAddress gateway) {
    public PodAddress {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(gateway, "gateway");
        int max = address instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for " + address);
        }
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    /** CIDR notation of the address with its prefix, as CNI results carry it. */
    public String cidr() {
        return address.getHostAddress() + "/" + prefixLength;
    }
}
