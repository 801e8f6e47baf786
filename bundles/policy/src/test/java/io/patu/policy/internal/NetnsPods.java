package io.patu.policy.internal;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.TestNames;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pods as the lifecycle bundle builds them, for kernel tests: a bridge with an IPv4 and an IPv6 gateway
 * address, and per pod a network namespace with a veth on the bridge, both families. Unique names with the
 * prefix {@code pd}; {@link #close()} removes everything.
 */
final class NetnsPods implements AutoCloseable {
    final String id = TestNames.unique("", 5);
    final String bridge = "pdbr" + id;
    final int subnet;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> veths = new ArrayList<>();

    NetnsPods() {
        subnet = 10 + Integer.parseInt(id.substring(0, 2), 16) % 200;
        Commands.check("ip", "link", "add", bridge, "type", "bridge");
        Commands.check("ip", "addr", "add", gateway4().getHostAddress() + "/24", "dev", bridge);
        Commands.check("ip", "-6", "addr", "add", gateway6() + "/64", "dev", bridge, "nodad");
        Commands.check("ip", "link", "set", bridge, "up");
    }

    InetAddress gateway4() {
        return address("10.253." + subnet + ".1");
    }

    String gateway6() {
        return "fd00:70d:" + Integer.toHexString(subnet) + "::1";
    }

    /** Pod number n (2..250): 10.253.S.n and fd00:70d:S::n. */
    Pod pod(int n) {
        String ns = "pd-" + id + "-" + n;
        String host = "pd" + id + "h" + n;
        Commands.check("ip", "netns", "add", ns);
        namespaces.add(ns);
        Commands.check("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns);
        veths.add(host);
        Commands.check("ip", "link", "set", host, "master", bridge, "up");
        Commands.check("ip", "-n", ns, "link", "set", "lo", "up");
        Commands.check("ip", "-n", ns, "addr", "add", "10.253." + subnet + "." + n + "/24", "dev", "eth0");
        Commands.check("ip", "-n", ns, "addr", "add", v6(n) + "/64", "dev", "eth0", "nodad");
        Commands.check("ip", "-n", ns, "link", "set", "eth0", "up");
        Commands.check("ip", "-n", ns, "route", "add", "default", "via", gateway4().getHostAddress());
        int ifindex = Integer.parseInt(Commands.check("cat", "/sys/class/net/" + host + "/ifindex").trim());
        return new Pod(new PodId(ns, "eth0"), NetNs.NAMED_NETNS_DIR.resolve(ns).toString(), host, ifindex,
                "00:00:00:00:00:00", List.of(new PodAddress(v4(n), 24, gateway4()),
                        new PodAddress(address(v6(n)), 64, address(gateway6()))));
    }

    InetAddress v4(int n) {
        return address("10.253." + subnet + "." + n);
    }

    String v6(int n) {
        return "fd00:70d:" + Integer.toHexString(subnet) + "::" + n;
    }

    static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Path netns(Pod pod) {
        return Path.of(pod.netns());
    }

    /** A listening TCP socket inside the pod. */
    static ServerSocket listen(Pod pod, int port) throws Exception {
        return NetNs.callIn(netns(pod), () -> {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 50);
            return server;
        });
    }

    /** A TCP connection from inside the pod; fails (SocketTimeoutException) when policy drops the SYN. */
    static Socket connect(Pod pod, InetAddress to, int port, int timeoutMillis) throws Exception {
        return NetNs.callIn(netns(pod), () -> {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(to, port), timeoutMillis);
                return socket;
            } catch (Exception e) {
                socket.close();
                throw e;
            }
        });
    }

    static boolean canConnect(Pod pod, InetAddress to, int port) throws Exception {
        try (Socket socket = connect(pod, to, port, 400)) {
            return socket.isConnected();
        } catch (java.net.SocketTimeoutException | java.net.ConnectException e) {
            return false;
        }
    }

    @Override
    public void close() {
        for (String veth : veths) {
            Commands.run("ip", "link", "del", veth);
        }
        for (String ns : namespaces) {
            Commands.run("ip", "netns", "del", ns);
        }
        Commands.run("ip", "link", "del", bridge);
    }
}
