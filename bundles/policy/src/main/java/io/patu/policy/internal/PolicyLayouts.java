package io.patu.policy.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The byte layouts of bpf/include/patu_policy.h, written and read in the kernel's (native) byte order.
 * {@code PolicyLayoutsBtfTest} checks the sizes and offsets against the compiled object's BTF.
 */
final class PolicyLayouts {
    static final int POD_KEY_SIZE = 20;
    static final int POD_VALUE_SIZE = 8;
    static final int RULE_KEY_SIZE = 28;
    static final int PORT_RANGE_SIZE = 8;
    static final int MAX_PORTS = 32;
    static final int RULE_VALUE_SIZE = 8 + MAX_PORTS * PORT_RANGE_SIZE;
    static final int FLOW_KEY_SIZE = 40;
    static final int FLOW_VALUE_SIZE = 16;
    static final int COUNTERS_SIZE = 48;
    static final int INGRESS_ISOLATED = 1;
    static final int EGRESS_ISOLATED = 2;
    /** Bits of a rule key before the peer address: slot and ifindex, always matched in full. */
    static final int RULE_KEY_EXACT_BITS = 64;

    private PolicyLayouts() {
    }

    /** An address as the kernel side keys it: IPv6 bytes, IPv4 as ::ffff:a.b.c.d. */
    static byte[] address16(InetAddress address) {
        byte[] raw = address.getAddress();
        if (raw.length == 16) {
            return raw;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }

    static byte[] podKey(int slot, InetAddress address) {
        return buffer(POD_KEY_SIZE).putInt(slot).put(address16(address)).array();
    }

    static int podKeySlot(byte[] key) {
        return ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()).getInt(0);
    }

    static byte[] podValue(int ifindex, int flags) {
        return buffer(POD_VALUE_SIZE).putInt(ifindex).putInt(flags).array();
    }

    /** An LPM key: the peer prefix with its host bits cleared, behind slot and pod. */
    static byte[] ruleKey(int slot, int ifindex, InetAddress prefix, int prefixLength) {
        int max = prefix instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " for " + prefix.getHostAddress());
        }
        int bits = (prefix instanceof Inet4Address ? 96 : 0) + prefixLength;
        byte[] peer = address16(prefix);
        for (int bit = bits; bit < 128; bit++) {
            peer[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return buffer(RULE_KEY_SIZE).putInt(RULE_KEY_EXACT_BITS + bits).putInt(slot).putInt(ifindex).put(peer).array();
    }

    static int ruleKeySlot(byte[] key) {
        return ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()).getInt(4);
    }

    /** A rule value; at most {@link #MAX_PORTS} ranges (the caller merges and checks). */
    static byte[] ruleValue(List<PortRange> ports) {
        if (ports.size() > MAX_PORTS) {
            throw new IllegalArgumentException(ports.size() + " port ranges, the kernel holds " + MAX_PORTS);
        }
        ByteBuffer value = buffer(RULE_VALUE_SIZE).putInt(ports.size()).putInt(0);
        for (PortRange range : ports) {
            value.putShort((short) range.first()).putShort((short) range.last()).put((byte) range.protocol())
                    .put(new byte[3]);
        }
        return value.array();
    }

    static byte[] u32(int value) {
        return buffer(4).putInt(value).array();
    }

    static int u32(byte[] value) {
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
    }

    static byte[] u64(long value) {
        return buffer(8).putLong(value).array();
    }

    static long u64(byte[] value) {
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getLong();
    }

    /** The counters of one pod summed over CPUs; {@code perCpu} holds one 48-byte slot per possible CPU. */
    static long[] sumCounters(byte[] perCpu) {
        long[] sums = new long[COUNTERS_SIZE / 8];
        ByteBuffer values = ByteBuffer.wrap(perCpu).order(ByteOrder.nativeOrder());
        for (int offset = 0; offset + COUNTERS_SIZE <= perCpu.length; offset += COUNTERS_SIZE) {
            for (int i = 0; i < sums.length; i++) {
                sums[i] += values.getLong(offset + 8 * i);
            }
        }
        return sums;
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }
}
