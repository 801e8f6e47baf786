package io.patu.kernel.netlink.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Decoded type-length-value attributes (struct nlattr) of a message or of a nested attribute. */
public final class Attributes {
    // NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the top bits of the type.
    private static final int TYPE_MASK = 0x3fff;

    private final Map<Integer, ByteBuffer> byType;

    private Attributes(Map<Integer, ByteBuffer> byType) {
        this.byType = byType;
    }

    static Attributes parse(ByteBuffer buffer, int offset) {
        Map<Integer, ByteBuffer> byType = new HashMap<>();
        int position = offset;
        while (position + 4 <= buffer.limit()) {
            int length = Short.toUnsignedInt(buffer.getShort(position));
            int type = Short.toUnsignedInt(buffer.getShort(position + 2)) & TYPE_MASK;
            if (length < 4 || position + length > buffer.limit()) {
                break; // truncated tail: keep what was complete
            }
            byType.put(type, buffer.slice(position + 4, length - 4).order(ByteOrder.nativeOrder()));
            position += NetlinkRequest.align(length);
        }
        return new Attributes(byType);
    }

    public Optional<ByteBuffer> get(int type) {
        return Optional.ofNullable(byType.get(type));
    }

    public Attributes nested(int type) {
        ByteBuffer value = byType.get(type);
        return value == null ? new Attributes(Map.of()) : parse(value, 0);
    }

    public Optional<String> string(int type) {
        return get(type).map(value -> {
            byte[] bytes = new byte[value.remaining()];
            value.get(0, bytes);
            int end = 0;
            while (end < bytes.length && bytes[end] != 0) {
                end++;
            }
            return new String(bytes, 0, end, StandardCharsets.UTF_8);
        });
    }

    public Optional<Integer> u32(int type) {
        return get(type).filter(value -> value.remaining() >= 4).map(value -> value.getInt(0));
    }

    public Optional<byte[]> bytes(int type) {
        return get(type).map(value -> {
            byte[] bytes = new byte[value.remaining()];
            value.get(0, bytes);
            return bytes;
        });
    }

    public Optional<InetAddress> address(int type) {
        return bytes(type).map(Attributes::toInetAddress);
    }

    /**
     * 16-byte values stay IPv6 even when they are IPv4-mapped (InetAddress.getByAddress would turn
     * ::ffff:a.b.c.d into an Inet4Address).
     */
    public static InetAddress toInetAddress(byte[] raw) {
        try {
            return raw.length == 16 ? Inet6Address.getByAddress(null, raw, -1) : InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + raw.length + " bytes", e);
        }
    }
}
