package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import io.patu.api.PodId;

class InterfaceNamesTest {
    @Test
    void hostVethIsStableShortAndDistinct() {
        String name = InterfaceNames.hostVeth(new PodId("abc", "eth0"));
        assertEquals(name, InterfaceNames.hostVeth(new PodId("abc", "eth0")));
        assertEquals(14, name.length());
        assertNull(InterfaceNames.problem(name));
        assertNotEquals(name, InterfaceNames.hostVeth(new PodId("abc", "eth1")));
        assertNotEquals(name, InterfaceNames.hostVeth(new PodId("abd", "eth0")));
    }
}
