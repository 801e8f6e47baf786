package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.patu.api.PatuException;

class ShellFramingTest {
    private static final RequestRoute CNI = new RequestRoute(WireRequest.MAGIC, WireRequest::totalLength,
            bytes -> null, CniVerbs::rejected, Runnable::run);
    private static final RequestRoute SHELL = RemoteShell.route(() -> null, Runnable::run);

    static byte[] frame(String line) {
        byte[] utf8 = line.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ShellRequest.MAGIC);
        out.writeBytes((utf8.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(utf8);
        return out.toByteArray();
    }

    @Test
    void aFrameIsCompleteOnceItsAnnouncedLineArrived() {
        byte[] frame = frame("patu:status — ü");
        int header = frame.length - "patu:status — ü".getBytes(StandardCharsets.UTF_8).length;
        for (int i = 0; i < header; i++) {
            assertEquals(Frames.INCOMPLETE, ShellRequest.totalLength(frame, i), "prefix of " + i);
        }
        assertEquals(frame.length, ShellRequest.totalLength(frame, header));
        assertEquals("patu:status — ü", ShellRequest.decode(frame).commandLine());
        assertThrows(PatuException.class, () -> ShellRequest.decode(Arrays.copyOf(frame, frame.length - 1)));
    }

    @Test
    void badFramesFailWithAReason() {
        byte[] notANumber = "PATUSH1\0abc\n".getBytes(StandardCharsets.US_ASCII);
        assertTrue(assertThrows(PatuException.class, () -> ShellRequest.totalLength(notANumber, notANumber.length))
                .getMessage().contains("not a number"));
        byte[] huge = ("PATUSH1\0" + (ShellRequest.MAX_LINE_BYTES + 1) + "\n").getBytes(StandardCharsets.US_ASCII);
        assertThrows(PatuException.class, () -> ShellRequest.totalLength(huge, huge.length));
        assertTrue(assertThrows(PatuException.class, () -> ShellRequest.decode(frame("  ")))
                .getMessage().contains("empty command line"));
        byte[] latin1 = frame("x");
        latin1[latin1.length - 1] = (byte) 0xe9;
        assertThrows(PatuException.class, () -> ShellRequest.decode(latin1));
    }

    @Test
    void theMagicPicksTheRouteOnceItCan() {
        List<RequestRoute> routes = List.of(CNI, SHELL);
        assertNull(RequestRoute.select(routes, "PATU".getBytes(StandardCharsets.US_ASCII)), "both still possible");
        assertSame(CNI, RequestRoute.select(routes, "PATU1".getBytes(StandardCharsets.US_ASCII)));
        assertSame(SHELL, RequestRoute.select(routes, "PATUS".getBytes(StandardCharsets.US_ASCII)));
        assertThrows(PatuException.class, () -> RequestRoute.select(routes, "GET /".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void answersArePlainText() {
        WireResponse noShell = RemoteShell.answer(() -> null, frame("lb"));
        assertEquals(1, noShell.exitStatus());
        assertTrue(new String(noShell.stdout(), StandardCharsets.UTF_8).contains("gogo.runtime"));

        WireResponse echoed = RemoteShell.answer(() -> line -> WireResponse.success(line.getBytes(StandardCharsets.UTF_8)),
                frame("patu:pods"));
        assertEquals("0\npatu:pods", new String(echoed.encode(), StandardCharsets.UTF_8));

        WireResponse bad = RemoteShell.answer(() -> null, "PATUSH1\0x\n".getBytes(StandardCharsets.US_ASCII));
        String text = new String(bad.encode(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("1\nbad shell request: malformed request"), text);
    }
}
