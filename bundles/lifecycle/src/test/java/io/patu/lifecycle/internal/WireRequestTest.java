package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.patu.api.PatuException;

class WireRequestTest {
    private static final byte[] REQUEST = CniVerbsInputTest.frame(Map.of("CNI_COMMAND", "VERSION"), "{\"a\":1}");

    @Test
    void totalIsKnownOnceTheHeaderArrived() {
        int header = REQUEST.length - "{\"a\":1}".length();
        for (int i = 0; i < header; i++) {
            assertEquals(WireRequest.INCOMPLETE, WireRequest.totalLength(REQUEST, i), "prefix of " + i + " bytes");
        }
        for (int i = header; i < REQUEST.length; i++) {
            assertEquals(REQUEST.length, WireRequest.totalLength(REQUEST, i), "prefix of " + i + " bytes");
            int prefix = i;
            assertThrows(PatuException.class, () -> WireRequest.decode(java.util.Arrays.copyOf(REQUEST, prefix)));
        }
        assertEquals(REQUEST.length, WireRequest.totalLength(REQUEST, REQUEST.length));
        WireRequest request = WireRequest.decode(REQUEST);
        assertEquals(Map.of("CNI_COMMAND", "VERSION"), request.environment());
        assertArrayEquals("{\"a\":1}".getBytes(StandardCharsets.UTF_8), request.stdin());
    }

    @Test
    void badPrefixFailsAtOnce() {
        byte[] http = "GET / HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
        assertThrows(PatuException.class, () -> WireRequest.totalLength(http, 2));
    }

    @Test
    void oversizedStdinFailsBeforeItArrives() {
        byte[] head = "PATU1\0\0002000000\n".getBytes(StandardCharsets.US_ASCII);
        PatuException error = assertThrows(PatuException.class, () -> WireRequest.totalLength(head, head.length));
        assertEquals(6, error.code());
    }

    @Test
    void endlessEnvironmentIsBounded() {
        byte[] endless = new byte[WireRequest.MAX_HEADER_BYTES + 10];
        System.arraycopy(WireRequest.MAGIC, 0, endless, 0, WireRequest.MAGIC.length);
        java.util.Arrays.fill(endless, WireRequest.MAGIC.length, endless.length, (byte) 'A');
        assertThrows(PatuException.class, () -> WireRequest.totalLength(endless, endless.length));
    }
}
