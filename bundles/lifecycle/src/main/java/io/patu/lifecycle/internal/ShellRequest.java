package io.patu.lifecycle.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * One Gogo command line sent to the agent socket by {@code patu --shell}: the magic "PATUSH1\0", the length
 * of the command line in ASCII decimal and "\n", then the command line in UTF-8. The answer is a
 * {@link WireResponse}: the exit status, "\n", then the command's output as text.
 */
record ShellRequest(String commandLine) {
    static final byte[] MAGIC = "PATUSH1\0".getBytes(StandardCharsets.US_ASCII);
    /** A command line typed or scripted by an operator; anything this large is not one. */
    static final int MAX_LINE_BYTES = 64 << 10;

    /** As {@link WireRequest#totalLength}: the frame's length once known, {@link Frames#INCOMPLETE} before. */
    static int totalLength(byte[] bytes, int available) {
        Frames.requireMagic(MAGIC, bytes, available, () -> new PatuException(CniError.DECODE_FAILURE,
                "not a Patu shell request (bad magic)"));
        if (available < MAGIC.length) {
            return Frames.INCOMPLETE;
        }
        return Frames.lengthPrefixedEnd(bytes, MAGIC.length, available, MAX_LINE_BYTES, "the command line");
    }

    static ShellRequest decode(byte[] bytes) {
        Frames.requireComplete(bytes, totalLength(bytes, bytes.length));
        int start = Frames.payloadStart(bytes, MAGIC.length);
        String line;
        try {
            line = StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(bytes, start, bytes.length - start)).toString();
        } catch (CharacterCodingException e) {
            throw new PatuException(CniError.DECODE_FAILURE, "the command line is not valid UTF-8");
        }
        if (line.isBlank()) {
            throw new PatuException(CniError.DECODE_FAILURE, "empty command line: give a command, e.g. patu:status or lb");
        }
        return new ShellRequest(line);
    }
}
