package io.patu.ipam.internal;

import java.math.BigInteger;
import java.net.InetAddress;

/**
 * One range of a host-local range set: the addresses {@code start..end} (inclusive) of {@code subnet},
 * less the gateway. Built only through {@link #of}, which fills in host-local's defaults and refuses
 * anything inconsistent, so every instance is valid.
 *
 * @param subnet  the on-link subnet; pods get its prefix length
 * @param start   first address handed out
 * @param end     last address handed out
 * @param gateway the bridge's address in this subnet and the pods' next hop; never handed out
 */
record AddressRange(Subnet subnet, InetAddress start, InetAddress end, InetAddress gateway) {

    /**
     * A range from its configuration text. Defaults as host-local: the gateway and the start are the first
     * host address, the end is the last address before the IPv4 broadcast (the very last one for IPv6).
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    static AddressRange of(String subnetText, String startText, String endText, String gatewayText) {
        if (subnetText == null || subnetText.isBlank()) {
            throw new IllegalArgumentException("a range needs a subnet");
        }
        Subnet subnet = Subnet.parse(subnetText.strip());
        if (subnet.size().compareTo(BigInteger.valueOf(4)) < 0) {
            throw new IllegalArgumentException("subnet " + subnet + " is too small for pods (needs at least a /30 or /126)");
        }
        InetAddress firstHost = subnet.address(BigInteger.ONE);
        InetAddress lastHost = subnet.isIpv4() ? subnet.address(subnet.size().subtract(BigInteger.TWO)) : subnet.lastAddress();
        InetAddress gateway = inside(subnet, "gateway", gatewayText, firstHost);
        InetAddress start = inside(subnet, "rangeStart", startText, firstHost);
        InetAddress end = inside(subnet, "rangeEnd", endText, lastHost);
        if (Subnet.toNumber(start).compareTo(Subnet.toNumber(end)) > 0) {
            throw new IllegalArgumentException("rangeStart " + start.getHostAddress() + " is after rangeEnd "
                    + end.getHostAddress() + " in " + subnet);
        }
        AddressRange range = new AddressRange(subnet, start, end, gateway);
        if (range.capacity().signum() == 0) {
            throw new IllegalArgumentException("range " + range + " holds no address but its gateway");
        }
        return range;
    }

    /** An address of the subnet other than its network (and IPv4 broadcast) address, or the default. */
    private static InetAddress inside(Subnet subnet, String what, String text, InetAddress otherwise) {
        if (text == null || text.isBlank()) {
            return otherwise;
        }
        InetAddress address = Subnet.parseLiteral(text.strip());
        if (!subnet.contains(address)) {
            throw new IllegalArgumentException(what + " " + address.getHostAddress() + " is not inside " + subnet);
        }
        if (address.equals(subnet.network())) {
            throw new IllegalArgumentException(what + " " + address.getHostAddress() + " is the network address of " + subnet);
        }
        if (subnet.isIpv4() && address.equals(subnet.lastAddress())) {
            throw new IllegalArgumentException(what + " " + address.getHostAddress() + " is the broadcast address of " + subnet);
        }
        return address;
    }

    boolean isIpv4() {
        return subnet.isIpv4();
    }

    /** Whether {@code address} is one this range hands out. */
    boolean isUsable(InetAddress address) {
        return inRange(address) && !address.equals(gateway);
    }

    /** Whether {@code start <= address <= end}, the gateway included. */
    boolean inRange(InetAddress address) {
        if (!subnet.contains(address)) {
            return false;
        }
        BigInteger value = Subnet.toNumber(address);
        return value.compareTo(Subnet.toNumber(start)) >= 0 && value.compareTo(Subnet.toNumber(end)) <= 0;
    }

    /** Whether the two ranges share an address. */
    boolean overlaps(AddressRange other) {
        if (isIpv4() != other.isIpv4()) {
            return false;
        }
        return Subnet.toNumber(start).compareTo(Subnet.toNumber(other.end)) <= 0
                && Subnet.toNumber(other.start).compareTo(Subnet.toNumber(end)) <= 0;
    }

    /** How many addresses the range hands out in all. */
    BigInteger capacity() {
        BigInteger all = Subnet.toNumber(end).subtract(Subnet.toNumber(start)).add(BigInteger.ONE);
        return inRange(gateway) ? all.subtract(BigInteger.ONE) : all;
    }

    /** Number of addresses from {@code start}: the position of {@code address} in the range. */
    BigInteger indexOf(InetAddress address) {
        return Subnet.toNumber(address).subtract(Subnet.toNumber(start));
    }

    /** Size of {@code start..end}, the gateway included. */
    BigInteger length() {
        return Subnet.toNumber(end).subtract(Subnet.toNumber(start)).add(BigInteger.ONE);
    }

    /** The address at position {@code index} from {@code start}. */
    InetAddress at(BigInteger index) {
        return Subnet.toAddress(Subnet.toNumber(start).add(index), start.getAddress().length);
    }

    @Override
    public String toString() {
        return subnet + " " + start.getHostAddress() + "-" + end.getHostAddress() + " gateway " + gateway.getHostAddress();
    }
}
