package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * One call of the CNI executable as it arrives on the agent socket. The framing is what cni/patu.c
 * writes: the magic "PATU1\0"; "NAME=VALUE\0" for each CNI_* environment variable; an empty entry ("\0")
 * ending them; the length of the plugin's stdin in ASCII decimal and "\n"; then exactly that many bytes.
 * NUL can appear in no environment string, so it needs no escaping. See {@link Frames} for why a length.
 */
record WireRequest(Map<String, String> environment, byte[] stdin) {
    static final byte[] MAGIC = "PATU1\0".getBytes(StandardCharsets.US_ASCII);
    /** Network configurations are a few KiB; anything this large is an error, not a config. */
    static final int MAX_STDIN_BYTES = 1 << 20;
    /** Bounds the environment part, so a client that never ends it cannot grow the agent's buffer. */
    static final int MAX_HEADER_BYTES = 64 << 10;
    private static final int MAX_ENV_ENTRIES = 64;

    /** A request not yet complete. */
    static final int INCOMPLETE = Frames.INCOMPLETE;

    /**
     * How many bytes the request starting at {@code bytes[0]} has in total, once enough of it has arrived to
     * say; {@link #INCOMPLETE} before that. Fails as soon as the prefix cannot start a valid request.
     */
    static int totalLength(byte[] bytes, int available) {
        Frames.requireMagic(MAGIC, bytes, available, WireRequest::notPatu);
        if (available < MAGIC.length) {
            return INCOMPLETE;
        }
        int envEnd = environmentEnd(bytes, available);
        if (envEnd == INCOMPLETE) {
            if (available > MAX_HEADER_BYTES) {
                throw new PatuException(CniError.DECODE_FAILURE, "the request's environment is larger than " + MAX_HEADER_BYTES + " bytes");
            }
            return INCOMPLETE;
        }
        return Frames.lengthPrefixedEnd(bytes, envEnd, available, MAX_STDIN_BYTES, "the network configuration on stdin");
    }

    static WireRequest decode(byte[] bytes) {
        Frames.requireComplete(bytes, totalLength(bytes, bytes.length));
        Map<String, String> environment = new LinkedHashMap<>();
        int position = MAGIC.length;
        while (bytes[position] != 0) {
            int end = position;
            while (bytes[end] != 0) {
                end++;
            }
            String entry = new String(bytes, position, end - position, StandardCharsets.UTF_8);
            int equals = entry.indexOf('=');
            if (equals <= 0) {
                throw new PatuException(CniError.DECODE_FAILURE, "malformed environment entry in request");
            }
            if (environment.size() == MAX_ENV_ENTRIES) {
                throw new PatuException(CniError.INVALID_ENVIRONMENT, "too many CNI_* environment variables");
            }
            environment.put(entry.substring(0, equals), entry.substring(equals + 1));
            position = end + 1;
        }
        return new WireRequest(Map.copyOf(environment),
                Arrays.copyOfRange(bytes, Frames.payloadStart(bytes, position + 1), bytes.length));
    }

    /** Index just past the empty entry that ends the environment, or INCOMPLETE. */
    private static int environmentEnd(byte[] bytes, int available) {
        int position = MAGIC.length;
        while (position < available) {
            if (bytes[position] == 0) {
                return position + 1;
            }
            while (position < available && bytes[position] != 0) {
                position++;
            }
            if (position == available) {
                return INCOMPLETE;
            }
            position++;
        }
        return INCOMPLETE;
    }

    private static PatuException notPatu() {
        return new PatuException(CniError.DECODE_FAILURE,
                "not a Patu CNI request (bad magic): only the patu CNI executable talks to this socket");
    }
}
