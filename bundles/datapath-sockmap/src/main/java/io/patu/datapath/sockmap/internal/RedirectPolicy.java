package io.patu.datapath.sockmap.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The thresholds the sk_msg program decides with (redirect_policy, see "Only accelerate" in
 * bpf/include/patu_sockmap.h), from the datapath's configuration and the host's net.core.rmem_max.
 *
 * @param rcvbufBytes the receive buffer a reader held back by backpressure gets, 0 when the host's rmem_max
 *                    cannot give a roomy one (the sk_msg program then uses {@code queueLimitBytes} for every
 *                    reader)
 */
record RedirectPolicy(int smallWriteBytes, int smallWriteRun, int queueLimitBytes, int rcvbufBytes,
                      long rmemMax, int jumboWriteBytes, int jumboMss) {
    /** PATU_ROOMY_RCVBUF: from this receive buffer size on, backpressure switches at half the buffer. */
    static final int ROOMY_RCVBUF = 2 << 20;
    static final Path RMEM_MAX = Path.of("/proc/sys/net/core/rmem_max");

    static RedirectPolicy of(int smallWriteBytes, int smallWriteRun, int queueLimitBytes, int receiveBuffer,
                             long rmemMax) {
        return of(smallWriteBytes, smallWriteRun, queueLimitBytes, receiveBuffer, rmemMax, 0, 0);
    }

    /**
     * With the jumbo rule: on a connection whose sender's MSS is at least {@code jumboMss} (pods on the
     * node-local jumbo MTU), a message shorter than {@code jumboWriteBytes} is small.
     */
    static RedirectPolicy of(int smallWriteBytes, int smallWriteRun, int queueLimitBytes, int receiveBuffer,
                             long rmemMax, int jumboWriteBytes, int jumboMss) {
        if (jumboWriteBytes < 0 || jumboMss < 0) {
            throw new IllegalArgumentException("jumboWriteBytes and jumboMss must not be negative, got "
                    + jumboWriteBytes + " and " + jumboMss);
        }
        if (smallWriteBytes < 0 || smallWriteRun < 0 || queueLimitBytes < 0 || receiveBuffer < 0) {
            throw new IllegalArgumentException("smallWriteBytes, smallWriteRun, redirectQueueBytes and "
                    + "redirectReceiveBuffer must not be negative, got " + smallWriteBytes + ", " + smallWriteRun
                    + ", " + queueLimitBytes + " and " + receiveBuffer);
        }
        // SO_RCVBUF doubles what it is given and caps that at rmem_max first.
        long granted = Math.min(receiveBuffer, 2 * rmemMax);
        int rcvbuf = granted >= ROOMY_RCVBUF ? (int) granted : 0;
        return new RedirectPolicy(smallWriteBytes, smallWriteRun, queueLimitBytes, rcvbuf, rmemMax, jumboWriteBytes,
                jumboMss);
    }

    /** net.core.rmem_max of this host; 0 when it cannot be read (no receive buffer is raised then). */
    static long hostRmemMax() {
        // Not Files.readString: on JDK 25 it returns only the first byte of this procfs file.
        try (var in = Files.newInputStream(RMEM_MAX)) {
            return Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    byte[] value() {
        return SockmapLayouts.redirectPolicy(smallWriteBytes, smallWriteRun, queueLimitBytes, rcvbufBytes,
                jumboWriteBytes, jumboMss);
    }

    /** One line for the log: what the datapath will do, and what the host keeps it from doing. */
    String describe() {
        String small = smallWriteRun == 0 ? "small-write streams stay redirected"
                : "a writer of " + smallWriteRun + " writes under " + smallWriteBytes + " bytes"
                        + (jumboMss > 0 && jumboWriteBytes > smallWriteBytes ? " (" + jumboWriteBytes
                                + " bytes on connections with an MSS of " + jumboMss + " or more)" : "")
                        + " leaves for plain TCP";
        String backpressure;
        if (queueLimitBytes == 0) {
            backpressure = "no backpressure";
        } else if (rcvbufBytes > 0) {
            backpressure = "receive buffers of " + rcvbufBytes + " bytes, backpressure at half a reader's buffer";
        } else {
            backpressure = "backpressure at " + queueLimitBytes + " bytes queued (net.core.rmem_max=" + rmemMax
                    + " cannot give readers a " + ROOMY_RCVBUF + "-byte receive buffer; set it to "
                    + ROOMY_RCVBUF / 2 + " or more for cheaper switches to TCP)";
        }
        return small + "; " + backpressure;
    }
}
