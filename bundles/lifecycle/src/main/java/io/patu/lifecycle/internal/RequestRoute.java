package io.patu.lifecycle.internal;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Function;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * One kind of request the agent socket serves, told apart from the others by the magic its frame starts
 * with: how to measure a frame, who answers it and on which thread, and the answer to a frame that
 * cannot be read.
 *
 * @param magic    the bytes every frame of this kind starts with
 * @param framing  {@code (bytes, available) -> total length}, or {@link Frames#INCOMPLETE}; throws on a bad frame
 * @param handler  answers one complete frame; never throws
 * @param rejected the answer to a frame that failed its framing
 * @param executor where the handler runs
 */
record RequestRoute(byte[] magic, Framing framing, Function<byte[], WireResponse> handler,
                    Function<RuntimeException, WireResponse> rejected, Executor executor) {

    interface Framing {
        int totalLength(byte[] bytes, int available);
    }

    /**
     * The route whose magic the first bytes of a request agree with; null while they agree with more than
     * one (a short prefix). Fails when they agree with none.
     */
    static RequestRoute select(List<RequestRoute> routes, byte[] bytes) {
        List<RequestRoute> candidates = routes.stream().filter(route -> {
            int compared = Math.min(bytes.length, route.magic.length);
            return Arrays.equals(bytes, 0, compared, route.magic, 0, compared);
        }).toList();
        if (candidates.isEmpty()) {
            throw new PatuException(CniError.DECODE_FAILURE,
                    "not a Patu request (bad magic): only the patu executable talks to this socket");
        }
        return candidates.size() == 1 ? candidates.getFirst() : null;
    }
}
