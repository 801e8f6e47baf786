package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.patu.api.PodId;

class HostVethNamesTest {
    @Test
    void hostVethIsStableShortAndDistinct() {
        String name = HostVethNames.of(new PodId("abc", "eth0"));
        assertEquals(name, HostVethNames.of(new PodId("abc", "eth0")));
        assertEquals(14, name.length());
        assertNull(io.patu.kernel.netlink.InterfaceNames.problem(name));
        assertNotEquals(name, HostVethNames.of(new PodId("abc", "eth1")));
        assertNotEquals(name, HostVethNames.of(new PodId("abd", "eth0")));
    }

    /** GC removes only bridge ports named the way Patu names host veths. */
    @Test
    void recognisesItsOwnNamesOnly() {
        assertTrue(HostVethNames.looksLikeOne(HostVethNames.of(new PodId("abc", "eth0"))));
        assertFalse(HostVethNames.looksLikeOne("patu0"));
        assertFalse(HostVethNames.looksLikeOne("patu0123456789a"));
        assertFalse(HostVethNames.looksLikeOne("patuABCDEF0123"));
        assertFalse(HostVethNames.looksLikeOne("veth0123456789"));
    }
}
