package io.patu.ipam.internal;

import java.math.BigInteger;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A host-local range set: ranges of one address family that together are the pool of one of the pod's
 * addresses. Addresses are handed out round-robin across the ranges, starting after the last one given,
 * so that a just-released address is not reused at once by the next pod.
 */
record RangeSet(List<AddressRange> ranges) {
    RangeSet {
        ranges = List.copyOf(ranges);
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("a range set needs at least one range");
        }
        for (AddressRange range : ranges) {
            if (range.isIpv4() != ranges.getFirst().isIpv4()) {
                throw new IllegalArgumentException("range set mixes IPv4 and IPv6: " + ranges.getFirst().subnet()
                        + " and " + range.subnet());
            }
        }
    }

    boolean isIpv4() {
        return ranges.getFirst().isIpv4();
    }

    /** The range that hands out {@code address}, if any. */
    Optional<AddressRange> rangeOf(InetAddress address) {
        return ranges.stream().filter(r -> r.isUsable(address)).findFirst();
    }

    BigInteger capacity() {
        return ranges.stream().map(AddressRange::capacity).reduce(BigInteger.ZERO, BigInteger::add);
    }

    /** How many more addresses the set could hand out, given the addresses already taken (by any lease). */
    BigInteger free(Set<InetAddress> taken) {
        long used = taken.stream().filter(a -> rangeOf(a).isPresent()).count();
        return capacity().subtract(BigInteger.valueOf(used)).max(BigInteger.ZERO);
    }

    /** The next usable address after {@code last} (or from the start) that is not taken, wrapping around. */
    Optional<InetAddress> next(InetAddress last, Set<InetAddress> taken) {
        if (free(taken).signum() == 0) {
            return Optional.empty();
        }
        int rangeIndex = 0;
        BigInteger position = BigInteger.ONE.negate();
        for (int i = 0; last != null && i < ranges.size(); i++) {
            if (ranges.get(i).inRange(last)) {
                rangeIndex = i;
                position = ranges.get(i).indexOf(last);
                break;
            }
        }
        // A free address exists, so this ends after at most |taken| + 2 steps past the start.
        while (true) {
            position = position.add(BigInteger.ONE);
            if (position.compareTo(ranges.get(rangeIndex).length()) >= 0) {
                rangeIndex = (rangeIndex + 1) % ranges.size();
                position = BigInteger.ZERO;
            }
            AddressRange range = ranges.get(rangeIndex);
            InetAddress candidate = range.at(position);
            if (!candidate.equals(range.gateway()) && !taken.contains(candidate)) {
                return Optional.of(candidate);
            }
        }
    }

    @Override
    public String toString() {
        return ranges.toString();
    }
}
