package io.patu.kernel.netlink.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Encodes one netlink request: nlmsghdr, the family's fixed header, then type-length-value
 * attributes, each padded to 4 bytes (NLMSG_ALIGN / NLA_ALIGN). Hand-written because no maintained
 * Java rtnetlink library exists; the layouts follow linux/netlink.h and linux/rtnetlink.h. Netlink
 * uses the host's byte order.
 */
public final class NetlinkRequest {
    static final int HEADER_SIZE = 16;
    private static final int ATTRIBUTE_HEADER_SIZE = 4;

    private final int type;
    private final int flags;
    private ByteBuffer buffer = ByteBuffer.allocate(512).order(ByteOrder.nativeOrder());
    private final Deque<Integer> openNests = new ArrayDeque<>();

    /** A request of message {@code type} (RTM_*) with NLM_F_* {@code flags}, NLM_F_REQUEST implied. */
    public NetlinkRequest(int type, int flags) {
        this.type = type;
        this.flags = flags | Netlink.NLM_F_REQUEST;
        buffer.position(HEADER_SIZE); // the header is written by finish(), once length and sequence are known
    }

    public int flags() {
        return flags;
    }

    /** Appends {@code count} zero bytes (fixed-header fields left zero). */
    public NetlinkRequest zeros(int count) {
        ensure(count);
        buffer.put(new byte[count]);
        return this;
    }

    public NetlinkRequest u8(int value) {
        ensure(1);
        buffer.put((byte) value);
        return this;
    }

    public NetlinkRequest u16(int value) {
        ensure(2);
        buffer.putShort((short) value);
        return this;
    }

    public NetlinkRequest u32(int value) {
        ensure(4);
        buffer.putInt(value);
        return this;
    }

    /** An attribute carrying raw bytes. */
    public NetlinkRequest attribute(int attributeType, byte[] payload) {
        int length = ATTRIBUTE_HEADER_SIZE + payload.length;
        ensure(align(length));
        buffer.putShort((short) length).putShort((short) attributeType).put(payload);
        pad();
        return this;
    }

    /** A NUL-terminated string attribute. */
    public NetlinkRequest attribute(int attributeType, String value) {
        byte[] text = value.getBytes(StandardCharsets.UTF_8);
        byte[] terminated = new byte[text.length + 1];
        System.arraycopy(text, 0, terminated, 0, text.length);
        return attribute(attributeType, terminated);
    }

    /** A 32-bit attribute. */
    public NetlinkRequest attributeU32(int attributeType, int value) {
        return attribute(attributeType, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
    }

    /** Opens a nested attribute; everything until {@link #endNested()} goes inside it. */
    public NetlinkRequest beginNested(int attributeType) {
        ensure(ATTRIBUTE_HEADER_SIZE);
        openNests.push(buffer.position());
        buffer.putShort((short) 0).putShort((short) attributeType);
        return this;
    }

    /** Closes the innermost nested attribute, fixing up its length. */
    public NetlinkRequest endNested() {
        int start = openNests.pop();
        buffer.putShort(start, (short) (buffer.position() - start));
        return this;
    }

    /** The finished message with its header (length, type, flags, {@code sequence}, port 0 = kernel). */
    public byte[] finish(int sequence) {
        if (!openNests.isEmpty()) {
            throw new IllegalStateException("unclosed nested attribute");
        }
        int length = buffer.position();
        buffer.putInt(0, length).putShort(4, (short) type).putShort(6, (short) flags).putInt(8, sequence).putInt(12, 0);
        byte[] message = new byte[length];
        buffer.get(0, message);
        return message;
    }

    static int align(int length) {
        return (length + 3) & ~3;
    }

    private void pad() {
        while ((buffer.position() & 3) != 0) {
            buffer.put((byte) 0);
        }
    }

    private void ensure(int more) {
        if (buffer.remaining() < more + 4) {
            ByteBuffer larger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more + 4))
                    .order(ByteOrder.nativeOrder());
            buffer.flip();
            larger.put(buffer);
            buffer = larger;
        }
    }
}
