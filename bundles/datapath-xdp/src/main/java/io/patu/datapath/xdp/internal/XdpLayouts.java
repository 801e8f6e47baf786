package io.patu.datapath.xdp.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.List;

/**
 * The Java side of bpf/include/patu_xdp.h. Field names match the C names one for one, so a test can compare
 * these layouts with the BTF the compiler put into the object.
 */
final class XdpLayouts {
    static final StructLayout POD_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("patu_xdp_pod_key");

    static final StructLayout POD_DEST = MemoryLayout.structLayout(
            JAVA_INT.withName("ifindex"),
            MemoryLayout.sequenceLayout(6, JAVA_BYTE).withName("mac"),
            MemoryLayout.sequenceLayout(2, JAVA_BYTE).withName("pad")).withName("patu_xdp_pod_dest");

    static final StructLayout POD_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("delivered_packets"),
            JAVA_LONG.withName("delivered_bytes"),
            JAVA_LONG.withName("passed_packets")).withName("patu_xdp_pod_counters");

    static final StructLayout RULE = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("addr"),
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("mask"),
            JAVA_SHORT.withName("port_first"),
            JAVA_SHORT.withName("port_last"),
            JAVA_BYTE.withName("family"),
            JAVA_BYTE.withName("protocol"),
            MemoryLayout.sequenceLayout(6, JAVA_BYTE).withName("pad")).withName("patu_xdp_rule");

    static final StructLayout RULE_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("dropped_packets"),
            JAVA_LONG.withName("dropped_bytes")).withName("patu_xdp_rule_counters");

    static final StructLayout DEVICE_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("passed_packets"),
            JAVA_LONG.withName("dropped_packets"),
            JAVA_LONG.withName("dropped_bytes")).withName("patu_xdp_device_counters");

    static final StructLayout CONFIG = MemoryLayout.structLayout(
            JAVA_INT.withName("rule_slots"),
            JAVA_INT.withName("ports_published")).withName("patu_xdp_config");

    static final StructLayout PORT_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr"),
            JAVA_SHORT.withName("port"),
            JAVA_BYTE.withName("protocol"),
            JAVA_BYTE.withName("family")).withName("patu_xdp_port_key");

    static final StructLayout PORT_DEST = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr"),
            JAVA_SHORT.withName("port"),
            MemoryLayout.sequenceLayout(2, JAVA_BYTE).withName("pad"),
            JAVA_INT.withName("ifindex")).withName("patu_xdp_port_dest");

    static final StructLayout NAT_FLOW = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("pod_addr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("peer_addr"),
            JAVA_SHORT.withName("pod_port"),
            JAVA_SHORT.withName("peer_port"),
            JAVA_BYTE.withName("protocol"),
            MemoryLayout.sequenceLayout(3, JAVA_BYTE).withName("pad")).withName("patu_xdp_nat_flow");

    static final StructLayout NAT_ORIGIN = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr"),
            JAVA_SHORT.withName("port"),
            MemoryLayout.sequenceLayout(2, JAVA_BYTE).withName("pad")).withName("patu_xdp_nat_origin");

    static final StructLayout SOCK_FLOW = MemoryLayout.structLayout(
            JAVA_LONG.withName("cookie"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr"),
            JAVA_SHORT.withName("port"),
            MemoryLayout.sequenceLayout(6, JAVA_BYTE).withName("pad")).withName("patu_xdp_sock_flow");

    static final StructLayout PORT_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("ingress_translated"),
            JAVA_LONG.withName("pod_translated"),
            JAVA_LONG.withName("replies_translated"),
            JAVA_LONG.withName("sockets_translated"),
            JAVA_LONG.withName("ingress_delivered"),
            JAVA_LONG.withName("ingress_isolated")).withName("patu_xdp_port_counters");

    /** Every struct shared with the kernel side, for the layout test. */
    static final List<StructLayout> ALL = List.of(POD_KEY, POD_DEST, POD_COUNTERS, RULE, RULE_COUNTERS,
            DEVICE_COUNTERS, CONFIG, PORT_KEY, PORT_DEST, NAT_FLOW, NAT_ORIGIN, SOCK_FLOW, PORT_COUNTERS);

    /** IPPROTO_TCP, IPPROTO_UDP. */
    static final int TCP = 6;
    static final int UDP = 17;

    /** PATU_XDP_MAX_RULES. */
    static final int MAX_RULES = 64;

    private static final ValueLayout.OfInt BIG_ENDIAN_INT = JAVA_INT.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private XdpLayouts() {
    }

    /** An address as the BPF side keys it: IPv6 bytes, IPv4 in its v4-mapped form. */
    static byte[] podKey(InetAddress address) {
        byte[] key = new byte[16];
        byte[] raw = address.getAddress();
        if (address instanceof Inet4Address) {
            key[10] = (byte) 0xff;
            key[11] = (byte) 0xff;
            System.arraycopy(raw, 0, key, 12, 4);
        } else {
            System.arraycopy(raw, 0, key, 0, 16);
        }
        return key;
    }

    /** The address a pod key holds: the inverse of {@link #podKey}. */
    static InetAddress addressOf(byte[] key) {
        try {
            return InetAddress.getByAddress(key); // an Inet4Address for a v4-mapped key; nothing is resolved
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("a pod key has 16 bytes, not " + key.length, e);
        }
    }

    static byte[] podDest(int ifindex, String mac) {
        MemorySegment value = MemorySegment.ofArray(new byte[(int) POD_DEST.byteSize()]);
        value.set(JAVA_INT.withByteAlignment(1), 0, ifindex);
        MemorySegment.copy(MemorySegment.ofArray(macBytes(mac)), 0, value, 4, 6);
        return value.toArray(JAVA_BYTE);
    }

    static byte[] macBytes(String mac) {
        String hex = mac.replace(":", "");
        if (hex.length() != 12) {
            throw new IllegalArgumentException("not a MAC address: " + mac);
        }
        return HexFormat.of().parseHex(hex);
    }

    static byte[] u32(int value) {
        MemorySegment key = MemorySegment.ofArray(new byte[4]);
        key.set(JAVA_INT.withByteAlignment(1), 0, value);
        return key.toArray(JAVA_BYTE);
    }

    static int u32(byte[] bytes) {
        return MemorySegment.ofArray(bytes).get(JAVA_INT.withByteAlignment(1), 0);
    }

    /** A deny rule as the XDP program reads it. */
    static byte[] rule(DenyRule rule) {
        MemorySegment value = MemorySegment.ofArray(new byte[(int) RULE.byteSize()]);
        byte[] address = rule.network().getAddress();
        byte[] mask = rule.maskBytes();
        for (int i = 0; i < address.length / 4; i++) {
            // Address and mask stay in network order, word by word, as the program compares them.
            value.set(BIG_ENDIAN_INT.withByteAlignment(1), i * 4L,
                    MemorySegment.ofArray(address).get(BIG_ENDIAN_INT.withByteAlignment(1), i * 4L));
            value.set(BIG_ENDIAN_INT.withByteAlignment(1), 16 + i * 4L,
                    MemorySegment.ofArray(mask).get(BIG_ENDIAN_INT.withByteAlignment(1), i * 4L));
        }
        value.set(JAVA_SHORT.withByteAlignment(1), 32, (short) rule.portFirst());
        value.set(JAVA_SHORT.withByteAlignment(1), 34, (short) rule.portLast());
        value.set(JAVA_BYTE, 36, (byte) (rule.isIpv4() ? 4 : 6));
        value.set(JAVA_BYTE, 37, (byte) rule.protocol());
        return value.toArray(JAVA_BYTE);
    }

    static byte[] config(int ruleSlots, int portsPublished) {
        MemorySegment value = MemorySegment.ofArray(new byte[(int) CONFIG.byteSize()]);
        value.set(JAVA_INT.withByteAlignment(1), 0, ruleSlots);
        value.set(JAVA_INT.withByteAlignment(1), 4, portsPublished);
        return value.toArray(JAVA_BYTE);
    }

    /** A published port's key: {@code host} null for every address of the node of that family. */
    static byte[] portKey(InetAddress host, int port, int protocol, boolean ipv4) {
        MemorySegment key = MemorySegment.ofArray(new byte[(int) PORT_KEY.byteSize()]);
        if (host != null) {
            MemorySegment.copy(MemorySegment.ofArray(podKey(host)), 0, key, 0, 16);
        }
        key.set(JAVA_SHORT.withByteAlignment(1), 16, (short) port);
        key.set(JAVA_BYTE, 18, (byte) protocol);
        key.set(JAVA_BYTE, 19, (byte) (ipv4 ? 4 : 6));
        return key.toArray(JAVA_BYTE);
    }

    static byte[] portDest(InetAddress pod, int port, int ifindex) {
        MemorySegment value = MemorySegment.ofArray(new byte[(int) PORT_DEST.byteSize()]);
        MemorySegment.copy(MemorySegment.ofArray(podKey(pod)), 0, value, 0, 16);
        value.set(JAVA_SHORT.withByteAlignment(1), 16, (short) port);
        value.set(JAVA_INT.withByteAlignment(1), 20, ifindex);
        return value.toArray(JAVA_BYTE);
    }

    /** The first 16 bytes of a key or value: an address in pod-key form. */
    static byte[] addressBytes(byte[] keyOrValue, int offset) {
        return java.util.Arrays.copyOfRange(keyOrValue, offset, offset + 16);
    }

    /**
     * Sums a per-CPU value of 64-bit counters: the kernel hands one copy per possible CPU, each rounded up
     * to 8 bytes.
     */
    static long[] sumPerCpu(byte[] perCpu, StructLayout layout, int cpus) {
        int fields = (int) (layout.byteSize() / Long.BYTES);
        long stride = (layout.byteSize() + 7) & ~7L;
        MemorySegment all = MemorySegment.ofArray(perCpu);
        long[] sums = new long[fields];
        for (int cpu = 0; cpu < cpus; cpu++) {
            for (int field = 0; field < fields; field++) {
                sums[field] += all.get(JAVA_LONG.withByteAlignment(1), cpu * stride + (long) field * Long.BYTES);
            }
        }
        return sums;
    }

    /** A zeroed per-CPU value of {@code layout} for {@code cpus} CPUs. */
    static byte[] zeroPerCpu(StructLayout layout, int cpus) {
        return new byte[(int) (cpus * ((layout.byteSize() + 7) & ~7L))];
    }
}
