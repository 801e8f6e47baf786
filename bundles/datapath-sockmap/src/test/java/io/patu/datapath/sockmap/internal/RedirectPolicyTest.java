package io.patu.datapath.sockmap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RedirectPolicyTest {
    private static final int MIB = 1 << 20;

    @Test
    void aHostThatAllowsItGivesRedirectedSocketsTheConfiguredBuffer() {
        RedirectPolicy policy = RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 4 * MIB);
        assertEquals(8 * MIB, policy.rcvbufBytes());
        assertTrue(policy.describe().contains("half a reader's buffer"), policy.describe());
    }

    @Test
    void rmemMaxCapsTheBufferAndBelowTwoMibItIsLeftAlone() {
        assertEquals(3 * MIB, RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 3 * MIB / 2).rcvbufBytes());
        RedirectPolicy debianDefault = RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 212_992);
        assertEquals(0, debianDefault.rcvbufBytes());
        assertTrue(debianDefault.describe().contains("net.core.rmem_max=212992"), debianDefault.describe());
    }

    @Test
    void theValueHasTheKernelLayout() {
        byte[] value = RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 4 * MIB).value();
        assertEquals(SockmapLayouts.REDIRECT_POLICY.byteSize(), value.length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(value).order(java.nio.ByteOrder.nativeOrder());
        assertEquals(256, b.getInt(0));
        assertEquals(64, b.getInt(4));
        assertEquals(16 * MIB, b.getInt(8));
        assertEquals(8 * MIB, b.getInt(12));
        assertEquals(0, b.getInt(16), "no jumbo rule unless asked for");
        byte[] jumbo = RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 4 * MIB, 65536, 16384).value();
        b = java.nio.ByteBuffer.wrap(jumbo).order(java.nio.ByteOrder.nativeOrder());
        assertEquals(65536, b.getInt(16));
        assertEquals(16384, b.getInt(20));
        assertTrue(RedirectPolicy.of(256, 64, 16 * MIB, 8 * MIB, 4 * MIB, 65536, 16384).describe()
                .contains("65536 bytes on connections with an MSS of 16384"));
    }

    @Test
    void negativeSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> RedirectPolicy.of(256, -1, 16 * MIB, 8 * MIB, 4 * MIB));
        assertThrows(IllegalArgumentException.class, () -> RedirectPolicy.of(256, 64, 16 * MIB, -8, 4 * MIB));
        assertThrows(IllegalArgumentException.class, () -> RedirectPolicy.of(256, 64, 16 * MIB, 8, 4 * MIB, -1, 16384));
    }
}
