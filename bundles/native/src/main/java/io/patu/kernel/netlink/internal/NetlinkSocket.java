package io.patu.kernel.netlink.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A NETLINK_ROUTE socket doing one request at a time: send, then read replies carrying the same
 * sequence number until the ACK/error (plain requests) or NLMSG_DONE (dumps). The socket belongs
 * to the network namespace of the thread that created it, for its whole life.
 */
public final class NetlinkSocket implements AutoCloseable {
    // Large enough for any single datagram of a dump (the kernel caps them near 32 KiB).
    private static final int RECEIVE_BUFFER = 64 * 1024;
    private static final int MSG_TRUNC = 0x20;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment receiveBuffer = arena.allocate(RECEIVE_BUFFER, 8);
    private int sequence;
    private boolean closed;

    private NetlinkSocket(int fd) {
        this.fd = fd;
    }

    /** Opens a socket in the calling thread's network namespace. */
    public static NetlinkSocket open() {
        int fd = Libc.socket(Netlink.AF_NETLINK, Netlink.SOCK_RAW, Netlink.NETLINK_ROUTE);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment address = call.allocate(12, 4); // struct sockaddr_nl, port 0: the kernel picks one
            address.set(JAVA_SHORT, 0, (short) Netlink.AF_NETLINK);
            Libc.bind(fd, address);
            // Extended acks put the kernel's explanation into errors; capped acks skip echoing the request.
            optional(() -> Libc.setsockoptInt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_EXT_ACK, 1));
            optional(() -> Libc.setsockoptInt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_CAP_ACK, 1));
            return new NetlinkSocket(fd);
        } catch (RuntimeException e) {
            Libc.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Sends {@code request} and returns the data messages of the reply. An error reply becomes a
     * NativeException named {@code operation}.
     */
    public synchronized List<NetlinkMessage> request(NetlinkRequest request, String operation) {
        if (closed) {
            throw new IllegalStateException("netlink socket is closed");
        }
        boolean dump = (request.flags() & Netlink.NLM_F_DUMP) == Netlink.NLM_F_DUMP;
        int seq = ++sequence;
        byte[] message = request.finish(seq);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(message.length, 8);
            out.copyFrom(MemorySegment.ofArray(message));
            Libc.send(fd, out, operation);
        }
        List<NetlinkMessage> replies = new ArrayList<>();
        while (true) {
            long received = Libc.recv(fd, receiveBuffer, MSG_TRUNC, operation);
            if (received > RECEIVE_BUFFER) {
                throw new IllegalStateException(operation + ": netlink reply of " + received + " bytes truncated");
            }
            byte[] bytes = receiveBuffer.asSlice(0, received).toArray(JAVA_BYTE);
            for (NetlinkMessage reply : NetlinkMessage.split(ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()))) {
                if (reply.sequence() != seq) {
                    continue; // a late reply to an earlier, abandoned request
                }
                if (reply.type() == Netlink.NLMSG_ERROR) {
                    int error = reply.payload().getInt(0);
                    if (error != 0) {
                        throw new NativeException(operation, -error, extendedAckMessage(reply));
                    }
                    return replies; // the ACK
                }
                if (reply.type() == Netlink.NLMSG_DONE) {
                    int error = reply.payload().remaining() >= 4 ? reply.payload().getInt(0) : 0;
                    if (error < 0) {
                        throw new NativeException(operation, -error, null);
                    }
                    return replies;
                }
                replies.add(reply);
                if (!dump && (request.flags() & Netlink.NLM_F_ACK) == 0) {
                    return replies;
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.closeQuietly(fd);
            arena.close();
        }
    }

    /**
     * The kernel's text from NLMSGERR_ATTR_MSG, if any. With NETLINK_CAP_ACK the error holds the
     * errno and the original header only; the TLVs follow.
     */
    private static String extendedAckMessage(NetlinkMessage error) {
        if ((error.flags() & Netlink.NLM_F_ACK_TLVS) == 0) {
            return null;
        }
        return error.attributes(4 + NetlinkRequest.HEADER_SIZE).string(Netlink.NLMSGERR_ATTR_MSG).orElse(null);
    }

    private static void optional(Runnable setting) {
        try {
            setting.run();
        } catch (NativeException ignored) {
            // older kernels: plain errors without explanation
        }
    }
}
