package io.patu.lifecycle.internal;

import java.util.Arrays;
import java.util.function.Supplier;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * What the agent socket's request frames have in common: a magic that names the frame type, and a payload
 * announced by its length in ASCII decimal and "\n". The length lets the agent see where a request ends
 * without the client half-closing its socket, which Vert.x sockets do not support.
 */
final class Frames {
    /** A request not yet complete. */
    static final int INCOMPLETE = -1;
    private static final int MAX_LENGTH_DIGITS = 10;

    private Frames() {
    }

    /** Fails unless the bytes that arrived so far agree with {@code magic}. */
    static void requireMagic(byte[] magic, byte[] bytes, int available, Supplier<PatuException> otherwise) {
        int compared = Math.min(available, magic.length);
        if (!Arrays.equals(bytes, 0, compared, magic, 0, compared)) {
            throw otherwise.get();
        }
    }

    /**
     * The total length of a frame whose "length\n" starts at {@code from}, once that line has arrived;
     * {@link #INCOMPLETE} before. Fails at once on a length that is malformed or over {@code maxPayload}.
     */
    static int lengthPrefixedEnd(byte[] bytes, int from, int available, int maxPayload, String payloadName) {
        int newline = -1;
        for (int i = from; i < available && i <= from + MAX_LENGTH_DIGITS; i++) {
            if (bytes[i] == '\n') {
                newline = i;
                break;
            }
        }
        if (newline < 0) {
            if (available > from + MAX_LENGTH_DIGITS) {
                throw malformed("no length of " + payloadName);
            }
            return INCOMPLETE;
        }
        if (newline == from) {
            throw malformed("empty length of " + payloadName);
        }
        long length = 0;
        for (int i = from; i < newline; i++) {
            if (bytes[i] < '0' || bytes[i] > '9') {
                throw malformed("the length of " + payloadName + " is not a number");
            }
            length = length * 10 + (bytes[i] - '0');
        }
        if (length > maxPayload) {
            throw new PatuException(CniError.DECODE_FAILURE, payloadName + " is larger than " + maxPayload + " bytes");
        }
        return newline + 1 + (int) length;
    }

    /** Index of the payload's first byte in a complete frame whose "length\n" starts at {@code from}. */
    static int payloadStart(byte[] bytes, int from) {
        int newline = from;
        while (bytes[newline] != '\n') {
            newline++;
        }
        return newline + 1;
    }

    /** Fails unless {@code bytes} is exactly one complete frame, as {@code totalLength} measures it. */
    static void requireComplete(byte[] bytes, int total) {
        if (total == INCOMPLETE || total != bytes.length) {
            throw new PatuException(CniError.DECODE_FAILURE, "truncated or oversized request: " + bytes.length
                    + " bytes where the framing announces " + (total == INCOMPLETE ? "more" : String.valueOf(total)));
        }
    }

    private static PatuException malformed(String what) {
        return new PatuException(CniError.DECODE_FAILURE, "malformed request: " + what);
    }
}
