package io.patu.kernel.netlink;

import static io.patu.kernel.netlink.internal.Netlink.*;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Libc;
import io.patu.kernel.netlink.internal.Attributes;
import io.patu.kernel.netlink.internal.NetlinkMessage;
import io.patu.kernel.netlink.internal.NetlinkRequest;
import io.patu.kernel.netlink.internal.NetlinkSocket;
import io.patu.kernel.netns.NetNs;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Links, addresses and routes of one network namespace over a NETLINK_ROUTE socket. The messages are
 * encoded by hand ({@link NetlinkRequest}): no maintained Java rtnetlink library exists. Every
 * kernel refusal becomes a {@link NativeException} naming the operation, e.g.
 * {@code RTM_NEWLINK(bridge ptb1)}. Interface names are checked before anything is sent.
 * Thread-safe: requests on one instance are serialised.
 */
public final class RtNetlink implements AutoCloseable {
    public static final int AF_UNSPEC = 0;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    private final NetlinkSocket socket;

    private RtNetlink(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** A socket in the calling thread's network namespace (the host's, for the agent). */
    public static RtNetlink open() {
        return new RtNetlink(NetlinkSocket.open());
    }

    /**
     * A socket inside the network namespace {@code netns}: created there on a short-lived thread,
     * it keeps operating on that namespace from any thread.
     */
    public static RtNetlink openIn(Path netns) {
        try {
            return NetNs.callIn(netns, RtNetlink::open);
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NativeException("open netlink in " + netns, Errno.EINTR, "interrupted");
        } catch (Exception e) {
            throw new IllegalStateException(e); // RtNetlink::open throws nothing checked
        }
    }

    /** The link named {@code name}; empty if there is none. */
    public Optional<Link> link(String name) {
        InterfaceNames.requireValid(name);
        NetlinkRequest request = new NetlinkRequest(RTM_GETLINK, NLM_F_ACK).zeros(IFINFOMSG_SIZE)
                .attribute(IFLA_IFNAME, name);
        return singleLink(request, "RTM_GETLINK(" + name + ")");
    }

    /** The link with index {@code index}; empty if there is none. */
    public Optional<Link> link(int index) {
        NetlinkRequest request = ifinfomsg(new NetlinkRequest(RTM_GETLINK, NLM_F_ACK), index, 0, 0);
        return singleLink(request, "RTM_GETLINK(index " + index + ")");
    }

    /** Every link of the namespace. */
    public List<Link> links() {
        NetlinkRequest request = new NetlinkRequest(RTM_GETLINK, NLM_F_DUMP).zeros(IFINFOMSG_SIZE);
        return socket.request(request, "RTM_GETLINK(dump)").stream()
                .filter(message -> message.type() == RTM_NEWLINK).map(RtNetlink::toLink).toList();
    }

    /** Creates a bridge; EEXIST if a link of that name exists. The bridge starts down. */
    public void createBridge(String name) {
        InterfaceNames.requireValid(name);
        NetlinkRequest request = new NetlinkRequest(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
                .zeros(IFINFOMSG_SIZE).attribute(IFLA_IFNAME, name)
                .beginNested(IFLA_LINKINFO).attribute(IFLA_INFO_KIND, "bridge").endNested();
        socket.request(request, "RTM_NEWLINK(bridge " + name + ")");
    }

    /**
     * Creates a veth pair: {@code name} in this socket's namespace and {@code peerName} directly in
     * {@code peerNetns} (so it never clashes with, or briefly appears among, this namespace's links).
     * {@code peerNetns} null keeps the peer here too.
     */
    public void createVethPair(String name, String peerName, Path peerNetns) {
        InterfaceNames.requireValid(name);
        InterfaceNames.requireValid(peerName);
        int netnsFd = peerNetns == null ? -1 : Libc.open(peerNetns.toString(), Libc.O_RDONLY, 0);
        try {
            NetlinkRequest request = new NetlinkRequest(RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
                    .zeros(IFINFOMSG_SIZE).attribute(IFLA_IFNAME, name)
                    .beginNested(IFLA_LINKINFO).attribute(IFLA_INFO_KIND, "veth")
                    .beginNested(IFLA_INFO_DATA).beginNested(VETH_INFO_PEER)
                    .zeros(IFINFOMSG_SIZE).attribute(IFLA_IFNAME, peerName);
            if (netnsFd >= 0) {
                request.attributeU32(IFLA_NET_NS_FD, netnsFd);
            }
            request.endNested().endNested().endNested();
            socket.request(request, "RTM_NEWLINK(veth " + name + "/" + peerName + ")");
        } finally {
            Libc.closeQuietly(netnsFd);
        }
    }

    /** Enslaves {@code ifName} to {@code masterName} (e.g. a veth to a bridge); ENODEV if either is missing. */
    public void setMaster(String ifName, String masterName) {
        InterfaceNames.requireValid(ifName);
        InterfaceNames.requireValid(masterName);
        int masterIndex = requireIndex(masterName, "RTM_NEWLINK(" + ifName + " master " + masterName + ")");
        changeLink(ifName, 0, 0, "master " + masterName, request -> request.attributeU32(IFLA_MASTER, masterIndex));
    }

    /** Sets {@code ifName} administratively up. */
    public void setUp(String ifName) {
        InterfaceNames.requireValid(ifName);
        changeLink(ifName, IFF_UP, IFF_UP, "up", request -> {
        });
    }

    /** Sets the MTU of {@code ifName}. */
    public void setMtu(String ifName, int mtu) {
        InterfaceNames.requireValid(ifName);
        if (mtu <= 0) {
            throw new IllegalArgumentException("MTU must be positive: " + mtu);
        }
        changeLink(ifName, 0, 0, "mtu " + mtu, request -> request.attributeU32(IFLA_MTU, mtu));
    }

    /**
     * Adds {@code address/prefixLength} (IPv4 or IPv6) to {@code ifName}. An existing identical
     * address fails with EEXIST, so callers decide whether that is fine.
     */
    public void addAddress(String ifName, InetAddress address, int prefixLength) {
        InterfaceNames.requireValid(ifName);
        int family = familyOf(address);
        requirePrefix(family, prefixLength);
        String operation = "RTM_NEWADDR(" + ifName + " " + address.getHostAddress() + "/" + prefixLength + ")";
        int index = requireIndex(ifName, operation);
        NetlinkRequest request = new NetlinkRequest(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
                .u8(family).u8(prefixLength).u8(0).u8(RT_SCOPE_UNIVERSE).u32(index);
        if (family == AF_INET) {
            // IPv4 distinguishes the local address from the peer address; on non-point-to-point links they match.
            request.attribute(IFA_LOCAL, address.getAddress());
        }
        request.attribute(IFA_ADDRESS, address.getAddress());
        socket.request(request, operation);
    }

    /** The addresses of {@code ifName}, both families; NativeException(ENODEV) if the link is missing. */
    public List<Address> addresses(String ifName) {
        InterfaceNames.requireValid(ifName);
        int index = requireIndex(ifName, "RTM_GETADDR(" + ifName + ")");
        NetlinkRequest request = new NetlinkRequest(RTM_GETADDR, NLM_F_DUMP).u8(AF_UNSPEC).zeros(IFADDRMSG_SIZE - 1);
        List<Address> addresses = new ArrayList<>();
        for (NetlinkMessage message : socket.request(request, "RTM_GETADDR(" + ifName + ")")) {
            ByteBuffer header = message.payload();
            if (message.type() != RTM_NEWADDR || header.getInt(4) != index) {
                continue;
            }
            Attributes attributes = message.attributes(IFADDRMSG_SIZE);
            Optional<InetAddress> own = attributes.address(IFA_LOCAL).or(() -> attributes.address(IFA_ADDRESS));
            own.ifPresent(address -> addresses.add(new Address(address, Byte.toUnsignedInt(header.get(1)))));
        }
        return addresses;
    }

    /**
     * Adds a route to the main table. {@code destination} null means the default route of the
     * gateway's family; {@code gateway} null means directly connected (scope link, then
     * {@code ifName} is required). EEXIST if such a route exists.
     */
    public void addRoute(InetAddress destination, int prefixLength, InetAddress gateway, String ifName) {
        addRoute(destination, prefixLength, gateway, ifName, 0);
    }

    /**
     * As {@link #addRoute(InetAddress, int, InetAddress, String)}, with the route's MTU metric
     * ({@code ip route ... mtu N}): traffic to that destination is cut for {@code mtu} whatever the
     * interface's MTU, TCP advertises an MSS for it and path MTU discovery may only lower it.
     * {@code mtu} 0 adds no metric.
     */
    public void addRoute(InetAddress destination, int prefixLength, InetAddress gateway, String ifName, int mtu) {
        if (mtu < 0 || mtu > 0 && mtu < 68) {
            throw new IllegalArgumentException("route MTU must be 0 (none) or at least 68: " + mtu);
        }
        if (destination == null && gateway == null) {
            throw new IllegalArgumentException("a route needs a destination or a gateway");
        }
        if (gateway == null && ifName == null) {
            throw new IllegalArgumentException("a directly connected route needs an interface");
        }
        int family = familyOf(destination != null ? destination : gateway);
        if (destination != null && gateway != null && familyOf(gateway) != family) {
            throw new IllegalArgumentException("destination and gateway are of different address families");
        }
        int dstLength = destination == null ? 0 : prefixLength;
        requirePrefix(family, dstLength);
        String operation = "RTM_NEWROUTE(" + (destination == null ? "default" : destination.getHostAddress() + "/" + dstLength)
                + (gateway == null ? "" : " via " + gateway.getHostAddress()) + (ifName == null ? "" : " dev " + ifName)
                + (mtu == 0 ? "" : " mtu " + mtu) + ")";
        int outIndex = 0;
        if (ifName != null) {
            InterfaceNames.requireValid(ifName);
            outIndex = requireIndex(ifName, operation);
        }
        NetlinkRequest request = new NetlinkRequest(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
                .u8(family).u8(dstLength).u8(0).u8(0)
                .u8(RT_TABLE_MAIN).u8(RTPROT_BOOT).u8(gateway == null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE).u8(RTN_UNICAST)
                .u32(0);
        if (destination != null) {
            request.attribute(RTA_DST, destination.getAddress());
        }
        if (gateway != null) {
            request.attribute(RTA_GATEWAY, gateway.getAddress());
        }
        if (outIndex != 0) {
            request.attributeU32(RTA_OIF, outIndex);
        }
        if (mtu != 0) {
            request.beginNested(RTA_METRICS).attributeU32(RTAX_MTU, mtu).endNested();
        }
        socket.request(request, operation);
    }

    /** The routes of the main table for {@link #AF_INET} or {@link #AF_INET6}. */
    public List<Route> routes(int family) {
        if (family != AF_INET && family != AF_INET6) {
            throw new IllegalArgumentException("family must be AF_INET or AF_INET6: " + family);
        }
        NetlinkRequest request = new NetlinkRequest(RTM_GETROUTE, NLM_F_DUMP).u8(family).zeros(RTMSG_SIZE - 1);
        List<Route> routes = new ArrayList<>();
        for (NetlinkMessage message : socket.request(request, "RTM_GETROUTE(dump)")) {
            ByteBuffer header = message.payload();
            if (message.type() != RTM_NEWROUTE || Byte.toUnsignedInt(header.get(0)) != family) {
                continue;
            }
            Attributes attributes = message.attributes(RTMSG_SIZE);
            int table = attributes.u32(RTA_TABLE).orElse(Byte.toUnsignedInt(header.get(4)));
            if (table != RT_TABLE_MAIN) {
                continue;
            }
            int dstLength = Byte.toUnsignedInt(header.get(1));
            routes.add(new Route(attributes.address(RTA_DST).orElse(null), dstLength,
                    attributes.address(RTA_GATEWAY).orElse(null), attributes.u32(RTA_OIF).orElse(0),
                    attributes.nested(RTA_METRICS).u32(RTAX_MTU).orElse(0)));
        }
        return routes;
    }

    /** Deletes a link (for a veth: both ends); false if there was none. */
    public boolean deleteLink(String name) {
        InterfaceNames.requireValid(name);
        NetlinkRequest request = new NetlinkRequest(RTM_DELLINK, NLM_F_ACK).zeros(IFINFOMSG_SIZE)
                .attribute(IFLA_IFNAME, name);
        try {
            socket.request(request, "RTM_DELLINK(" + name + ")");
            return true;
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODEV) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        socket.close();
    }

    private Optional<Link> singleLink(NetlinkRequest request, String operation) {
        try {
            return socket.request(request, operation).stream().filter(message -> message.type() == RTM_NEWLINK)
                    .findFirst().map(RtNetlink::toLink);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** RTM_NEWLINK without NLM_F_CREATE changes an existing link, found here by name. */
    private void changeLink(String ifName, int flags, int change, String what,
            java.util.function.Consumer<NetlinkRequest> attributes) {
        NetlinkRequest request = ifinfomsg(new NetlinkRequest(RTM_NEWLINK, NLM_F_ACK), 0, flags, change)
                .attribute(IFLA_IFNAME, ifName);
        attributes.accept(request);
        socket.request(request, "RTM_NEWLINK(" + ifName + " " + what + ")");
    }

    private int requireIndex(String ifName, String operation) {
        return link(ifName).map(Link::index)
                .orElseThrow(() -> new NativeException(operation, Errno.ENODEV, "no link named " + ifName));
    }

    private static NetlinkRequest ifinfomsg(NetlinkRequest request, int index, int flags, int change) {
        return request.u8(AF_UNSPEC).u8(0).u16(0).u32(index).u32(flags).u32(change);
    }

    private static Link toLink(NetlinkMessage message) {
        ByteBuffer header = message.payload();
        Attributes attributes = message.attributes(IFINFOMSG_SIZE);
        ByteBuffer stats = attributes.get(IFLA_STATS64).filter(s -> s.remaining() >= 32).orElse(null);
        // struct rtnl_link_stats64 starts rx_packets, tx_packets, rx_bytes, tx_bytes.
        return new Link(header.getInt(4),
                attributes.string(IFLA_IFNAME).orElse(""),
                attributes.nested(IFLA_LINKINFO).string(IFLA_INFO_KIND).orElse(""),
                attributes.bytes(IFLA_ADDRESS).map(mac -> HexFormat.ofDelimiter(":").formatHex(mac)).orElse(""),
                attributes.u32(IFLA_MTU).orElse(0),
                (header.getInt(8) & IFF_UP) != 0,
                attributes.u32(IFLA_MASTER).orElse(0),
                stats == null ? 0 : stats.getLong(16), stats == null ? 0 : stats.getLong(24),
                stats == null ? 0 : stats.getLong(0), stats == null ? 0 : stats.getLong(8));
    }

    private static int familyOf(InetAddress address) {
        if (address instanceof Inet4Address) {
            return AF_INET;
        }
        if (address instanceof Inet6Address) {
            return AF_INET6;
        }
        throw new IllegalArgumentException("not an IP address: " + address);
    }

    private static void requirePrefix(int family, int prefixLength) {
        int max = family == AF_INET ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + max);
        }
    }
}
