package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;

/**
 * The answer the CNI executable relays: its exit status, then what it prints on stdout. Encoded as the
 * status in ASCII decimal, a newline, and the stdout bytes.
 */
record WireResponse(int exitStatus, byte[] stdout) {
    static WireResponse success(byte[] stdout) {
        return new WireResponse(0, stdout);
    }

    byte[] encode() {
        byte[] head = (exitStatus + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + stdout.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(stdout, 0, out, head.length, stdout.length);
        return out;
    }
}
