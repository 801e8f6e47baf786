package io.patu.ipam.internal;

import java.math.BigInteger;
import java.net.InetAddress;
import java.util.Optional;
import java.util.Set;

import io.patu.api.PodAddress;

/**
 * The usable addresses of one subnet: everything but the network address, the gateway and (IPv4) the
 * broadcast address. Hands out addresses round-robin after the last one given, as host-local does,
 * so that a just-released address is not reused at once by the next pod.
 */
final class AddressPool {
    private final Subnet subnet;
    private final InetAddress gateway;

    AddressPool(Subnet subnet, InetAddress gateway) {
        if (subnet.size().compareTo(BigInteger.valueOf(4)) < 0) {
            throw new IllegalArgumentException("subnet " + subnet + " is too small for pods (needs at least a /30 or /126)");
        }
        if (!subnet.contains(gateway)) {
            throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " is not inside " + subnet);
        }
        this.subnet = subnet;
        this.gateway = gateway;
    }

    /** The default gateway of a subnet: its first host address. */
    static InetAddress firstHost(Subnet subnet) {
        return subnet.address(BigInteger.ONE);
    }

    Subnet subnet() {
        return subnet;
    }

    InetAddress gateway() {
        return gateway;
    }

    PodAddress toPodAddress(InetAddress address) {
        return new PodAddress(address, subnet.prefixLength(), gateway);
    }

    boolean isUsable(InetAddress address) {
        if (!subnet.contains(address) || address.equals(gateway)) {
            return false;
        }
        BigInteger offset = subnet.offsetOf(address);
        BigInteger last = subnet.size().subtract(BigInteger.ONE);
        return offset.signum() > 0 && !(subnet.isIpv4() && offset.equals(last));
    }

    /** How many addresses the pool can hand out in all: the subnet less network, gateway and broadcast. */
    BigInteger capacity() {
        BigInteger reserved = BigInteger.valueOf(subnet.isIpv4() ? 3 : 2);
        return subnet.size().subtract(reserved);
    }

    /** The next free usable address after {@code last} (or from the start), wrapping around once. */
    Optional<InetAddress> next(InetAddress last, Set<InetAddress> taken) {
        BigInteger size = subnet.size();
        BigInteger start = last != null && subnet.contains(last) ? subnet.offsetOf(last) : BigInteger.ZERO;
        // Scanning is linear in the pool size; edge pools are at most a few thousand addresses.
        for (BigInteger step = BigInteger.ONE; step.compareTo(size) <= 0; step = step.add(BigInteger.ONE)) {
            InetAddress candidate = subnet.address(start.add(step).mod(size));
            if (isUsable(candidate) && !taken.contains(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
