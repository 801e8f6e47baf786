package io.patu.datapath.sockmap.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The Java side of bpf/include/patu_sockmap.h. Field names match the C names one for one, so a test can
 * compare these layouts with the BTF the compiler put into the object.
 */
final class SockmapLayouts {
    static final StructLayout POD_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("patu_pod_key");

    static final StructLayout POD_VALUE = MemoryLayout.structLayout(
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("flags")).withName("patu_pod_value");

    static final StructLayout SOCK_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("local_addr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("remote_addr"),
            JAVA_INT.withName("local_port"),
            JAVA_INT.withName("remote_port")).withName("patu_sock_key");

    static final StructLayout POD_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("msgs_redirected"),
            JAVA_LONG.withName("bytes_redirected")).withName("patu_pod_counters");

    static final StructLayout SOCKMAP_COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG.withName("msgs_redirected"),
            JAVA_LONG.withName("bytes_redirected"),
            JAVA_LONG.withName("msgs_passed"),
            JAVA_LONG.withName("bytes_passed"),
            JAVA_LONG.withName("sockets_added"),
            JAVA_LONG.withName("sockets_add_failed"),
            JAVA_LONG.withName("to_plain_small"),
            JAVA_LONG.withName("to_plain_no_peer"),
            JAVA_LONG.withName("to_plain_full"),
            JAVA_LONG.withName("back_to_redirect"),
            JAVA_LONG.withName("conns_untracked"),
            JAVA_LONG.withName("sockets_left")).withName("patu_sockmap_counters");

    static final StructLayout REDIRECT_POLICY = MemoryLayout.structLayout(
            JAVA_INT.withName("small_msg_bytes"),
            JAVA_INT.withName("small_run_msgs"),
            JAVA_INT.withName("queue_limit_bytes"),
            JAVA_INT.withName("rcvbuf_bytes"),
            JAVA_INT.withName("jumbo_msg_bytes"),
            JAVA_INT.withName("jumbo_mss")).withName("patu_redirect_policy");

    /** Every struct shared with the kernel side, for the layout test. */
    static final List<StructLayout> ALL = List.of(POD_KEY, POD_VALUE, SOCK_KEY, POD_COUNTERS, SOCKMAP_COUNTERS,
            REDIRECT_POLICY);

    /** patu_pod_value.flags: socket redirection enabled for this pod. */
    static final int POD_F_REDIRECT = 1;

    private SockmapLayouts() {
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
            // getByAddress gives an Inet4Address for a v4-mapped address; nothing is resolved.
            return InetAddress.getByAddress(key);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("a pod key has 16 bytes, not " + key.length, e);
        }
    }

    static byte[] podValue(int ifIndex, int flags) {
        return intStruct(POD_VALUE, ifIndex, flags);
    }

    static byte[] redirectPolicy(int smallMsgBytes, int smallRunMsgs, int queueLimitBytes, int rcvbufBytes,
                                 int jumboMsgBytes, int jumboMss) {
        return intStruct(REDIRECT_POLICY, smallMsgBytes, smallRunMsgs, queueLimitBytes, rcvbufBytes, jumboMsgBytes, jumboMss);
    }

    /** A struct of 32-bit fields only, one value per field in declaration order, in the host's byte order. */
    private static byte[] intStruct(StructLayout layout, int... values) {
        if (values.length != layout.memberLayouts().size()) {
            throw new IllegalArgumentException(layout.name().orElseThrow() + " has " + layout.memberLayouts().size()
                    + " fields, not " + values.length);
        }
        MemorySegment value = MemorySegment.ofArray(new byte[(int) layout.byteSize()]);
        for (int i = 0; i < values.length; i++) {
            String field = layout.memberLayouts().get(i).name().orElseThrow();
            value.set(JAVA_INT_UNALIGNED, layout.byteOffset(MemoryLayout.PathElement.groupElement(field)), values[i]);
        }
        return value.toArray(JAVA_BYTE);
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
}
