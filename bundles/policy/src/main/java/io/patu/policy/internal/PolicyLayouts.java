package io.patu.policy.internal;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;
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
    static final int MAX_PORTS = 32;

    static final StructLayout POD_KEY = structLayout(JAVA_INT.withName("slot"),
            sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("patu_policy_pod_key");
    static final StructLayout POD_VALUE = structLayout(JAVA_INT.withName("ifindex"), JAVA_INT.withName("flags"))
            .withName("patu_policy_pod");
    static final StructLayout RULE_KEY = structLayout(JAVA_INT.withName("prefixlen"), JAVA_INT.withName("slot"),
            JAVA_INT.withName("ifindex"), sequenceLayout(16, JAVA_BYTE).withName("peer")).withName("patu_rule_key");
    static final StructLayout PORT_RANGE = structLayout(JAVA_SHORT.withName("first"), JAVA_SHORT.withName("last"),
            JAVA_BYTE.withName("protocol"), sequenceLayout(3, JAVA_BYTE).withName("pad")).withName("patu_port_range");
    static final StructLayout RULE = structLayout(JAVA_INT.withName("count"), JAVA_INT.withName("pad"),
            sequenceLayout(MAX_PORTS, PORT_RANGE).withName("ports")).withName("patu_rule");
    static final StructLayout FLOW_KEY = structLayout(sequenceLayout(16, JAVA_BYTE).withName("lower_addr"),
            sequenceLayout(16, JAVA_BYTE).withName("upper_addr"), JAVA_SHORT.withName("lower_port"),
            JAVA_SHORT.withName("upper_port"), JAVA_BYTE.withName("protocol"),
            sequenceLayout(3, JAVA_BYTE).withName("pad")).withName("patu_flow_key");
    static final StructLayout FLOW = structLayout(JAVA_LONG.withName("generation"), JAVA_INT.withName("denied_by"),
            JAVA_BYTE.withName("verdict"), JAVA_BYTE.withName("initiator_lower"), JAVA_BYTE.withName("denied_ingress"),
            JAVA_BYTE.withName("pad")).withName("patu_flow");
    static final StructLayout NODE_ADDR = structLayout(sequenceLayout(16, JAVA_BYTE).withName("addr"))
            .withName("patu_node_addr");
    static final StructLayout COUNTERS = structLayout(JAVA_LONG.withName("ingress_allowed"),
            JAVA_LONG.withName("ingress_denied"), JAVA_LONG.withName("egress_allowed"),
            JAVA_LONG.withName("egress_denied"), JAVA_LONG.withName("flows_decided"),
            JAVA_LONG.withName("sockets_destroyed")).withName("patu_policy_counters");
    /** Every struct of patu_policy.h, for the BTF check. */
    static final java.util.List<StructLayout> ALL = java.util.List.of(POD_KEY, POD_VALUE, RULE_KEY, PORT_RANGE, RULE,
            FLOW_KEY, FLOW, NODE_ADDR, COUNTERS);

    static final int POD_KEY_SIZE = (int) POD_KEY.byteSize();
    static final int POD_VALUE_SIZE = (int) POD_VALUE.byteSize();
    static final int RULE_KEY_SIZE = (int) RULE_KEY.byteSize();
    static final int RULE_VALUE_SIZE = (int) RULE.byteSize();
    static final int COUNTERS_SIZE = (int) COUNTERS.byteSize();
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
