package io.patu.datapath.sockmap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.BtfLayouts;

/**
 * The Java layouts must match what the C compiler laid out for bpf/include/patu_sockmap.h (the compiled object's BTF),
 * and the encoders must write what the programs read.
 */
class SockmapLayoutsBtfTest {
    @Test
    void everySharedStructMatchesItsBtf() throws Exception {
        BtfLayouts.of(SockmapLayoutsBtfTest.class, SockmapKernelState.OBJECT_RESOURCE).assertMatch(SockmapLayouts.ALL);
    }

    @Test
    void ipv4KeysAreV4Mapped() throws Exception {
        byte[] key = SockmapLayouts.podKey(InetAddress.ofLiteral("10.77.0.2"));
        assertEquals("00000000000000000000ffff0a4d0002", java.util.HexFormat.of().formatHex(key));
        byte[] v6 = SockmapLayouts.podKey(InetAddress.ofLiteral("fd00::1"));
        assertEquals("fd000000000000000000000000000001", java.util.HexFormat.of().formatHex(v6));
    }

    @Test
    void perCpuSumsAddEveryCpu() {
        byte[] perCpu = new byte[2 * 16];
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(perCpu).order(java.nio.ByteOrder.nativeOrder());
        buffer.putLong(0, 3).putLong(8, 300).putLong(16, 4).putLong(24, 400);
        long[] sums = SockmapLayouts.sumPerCpu(perCpu, SockmapLayouts.POD_COUNTERS, 2);
        assertEquals(7, sums[0]);
        assertEquals(700, sums[1]);
    }
}
