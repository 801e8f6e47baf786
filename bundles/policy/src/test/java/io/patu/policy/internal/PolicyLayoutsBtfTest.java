package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.testing.BtfLayouts;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Java layouts of patu_policy.h against the BTF clang wrote into bpf/policy.bpf.o (bpftool's text dump),
 * and the encoders against the layouts: a change on one side alone fails the build.
 */
class PolicyLayoutsBtfTest {
    @Test
    void everySharedStructMatchesItsBtf() throws Exception {
        BtfLayouts.of(PolicyLayoutsBtfTest.class, PolicyKernelState.OBJECT_RESOURCE).assertMatch(PolicyLayouts.ALL);
    }

    @Test
    void ruleKeysCountSlotAndPodAndClearHostBits() {
        byte[] v4 = PolicyLayouts.ruleKey(1, 7, InetAddress.ofLiteral("10.1.2.3"), 16);
        ByteBuffer key = ByteBuffer.wrap(v4).order(ByteOrder.nativeOrder());
        assertEquals(PolicyLayouts.RULE_KEY_SIZE, v4.length);
        assertEquals(64 + 96 + 16, key.getInt(0));
        assertEquals(1, key.getInt(4));
        assertEquals(7, key.getInt(8));
        assertEquals("00000000000000000000ffff0a010000", HexFormat.of().formatHex(v4, 12, 28));
        byte[] v6 = PolicyLayouts.ruleKey(0, 7, InetAddress.ofLiteral("fd00:1:2:3::ff"), 60);
        assertEquals(64 + 60, ByteBuffer.wrap(v6).order(ByteOrder.nativeOrder()).getInt(0));
        assertEquals("fd000001000200000000000000000000", HexFormat.of().formatHex(v6, 12, 28));
        assertThrows(IllegalArgumentException.class, () -> PolicyLayouts.ruleKey(0, 1, InetAddress.ofLiteral("10.0.0.0"), 33));
    }

    @Test
    void ruleValuesHoldTheMergedRanges() {
        List<PortRange> merged = GenerationWriter.Encoded.merge(List.of(new PortRange(6, 80, 80),
                new PortRange(6, 81, 90), new PortRange(17, 53, 53), new PortRange(6, 85, 100)));
        assertEquals(List.of(new PortRange(6, 80, 100), new PortRange(17, 53, 53)), merged);
        assertEquals(List.of(PortRange.EVERYTHING),
                GenerationWriter.Encoded.merge(List.of(new PortRange(6, 80, 80), PortRange.EVERYTHING)));
        byte[] value = PolicyLayouts.ruleValue(merged);
        ByteBuffer buffer = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
        assertEquals(PolicyLayouts.RULE_VALUE_SIZE, value.length);
        assertEquals(2, buffer.getInt(0));
        assertEquals(80, buffer.getShort(8));
        assertEquals(100, buffer.getShort(10));
        assertEquals(6, buffer.get(12));
        assertEquals(17, buffer.get(16 + 4));
    }

    @Test
    void aPeerNeedingMoreRangesThanTheKernelHoldsIsRefusedBeforeAnythingIsWritten() {
        List<PortRange> ports = new ArrayList<>();
        for (int port = 1; port < 80; port += 2) {
            ports.add(new PortRange(6, port, port));
        }
        PodRules pod = new PodRules(5, List.of(InetAddress.ofLiteral("10.0.0.5")), true, false,
                List.of(new PeerRule(InetAddress.ofLiteral("10.0.0.0"), 8, ports)), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GenerationWriter.Encoded.of(new CompiledPolicy(1, Map.of(5, pod))));
        assertTrue(e.getMessage().contains("10.0.0.0/8") && e.getMessage().contains("40"), e.getMessage());
    }
}
