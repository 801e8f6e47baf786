package io.patu.kernel.netlink.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One received netlink message: header fields plus its payload (family header and attributes),
 * as a read-only view of the receive buffer.
 */
public record NetlinkMessage(int type, int flags, int sequence, ByteBuffer payload) {

    /** Splits a datagram into its messages (several per datagram in dumps). */
    static List<NetlinkMessage> split(ByteBuffer datagram) {
        List<NetlinkMessage> messages = new ArrayList<>();
        int offset = 0;
        while (offset + NetlinkRequest.HEADER_SIZE <= datagram.limit()) {
            int length = datagram.getInt(offset);
            if (length < NetlinkRequest.HEADER_SIZE || offset + length > datagram.limit()) {
                throw new IllegalStateException("malformed netlink message of length " + length);
            }
            ByteBuffer payload = datagram.slice(offset + NetlinkRequest.HEADER_SIZE, length - NetlinkRequest.HEADER_SIZE)
                    .order(ByteOrder.nativeOrder());
            messages.add(new NetlinkMessage(Short.toUnsignedInt(datagram.getShort(offset + 4)),
                    Short.toUnsignedInt(datagram.getShort(offset + 6)), datagram.getInt(offset + 8), payload));
            offset += NetlinkRequest.align(length);
        }
        return messages;
    }

    /** The attributes following a fixed header of {@code fixedHeaderSize} bytes. */
    public Attributes attributes(int fixedHeaderSize) {
        return Attributes.parse(payload, fixedHeaderSize);
    }
}
