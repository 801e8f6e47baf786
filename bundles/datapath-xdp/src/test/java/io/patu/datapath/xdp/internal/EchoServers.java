package io.patu.datapath.xdp.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.patu.kernel.netns.NetNs;

/**
 * A TCP and a UDP echo server in a pod's namespace, on every address of both families: each answers
 * "echo:" + what it got, so a client sees that the pod itself answered.
 */
final class EchoServers implements AutoCloseable {
    private final ServerSocket tcp;
    private final DatagramSocket udp;

    EchoServers(Path netns, int tcpPort, int udpPort) throws Exception {
        tcp = NetNs.callIn(netns, () -> new ServerSocket(tcpPort, 16, InetAddress.ofLiteral("::")));
        udp = NetNs.callIn(netns, () -> new DatagramSocket(new InetSocketAddress(InetAddress.ofLiteral("::"), udpPort)));
        Thread.ofPlatform().daemon().name("pp-echo-tcp").start(this::serveTcp);
        Thread.ofPlatform().daemon().name("pp-echo-udp").start(this::serveUdp);
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket client = tcp.accept(); InputStream in = client.getInputStream(); OutputStream out = client.getOutputStream()) {
                byte[] buffer = new byte[256];
                int n = in.read(buffer);
                if (n > 0) {
                    out.write(("echo:" + new String(buffer, 0, n, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
                }
            } catch (Exception e) {
                // closed, or a client that went away
            }
        }
    }

    private void serveUdp() {
        byte[] buffer = new byte[256];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                byte[] answer = ("echo:" + new String(buffer, 0, packet.getLength(), StandardCharsets.UTF_8))
                        .getBytes(StandardCharsets.UTF_8);
                udp.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
            } catch (SocketException e) {
                return;
            } catch (Exception e) {
                // keep serving
            }
        }
    }

    /** A TCP exchange from {@code netns} with {@code to}:{@code port}; the answer. */
    static String tcp(Path netns, InetAddress to, int port, String message) throws Exception {
        // The descriptor is made at connect: inside the namespace.
        try (Socket socket = NetNs.callIn(netns, () -> connected(to, port))) {
            return exchange(socket, message);
        }
    }

    static Socket connected(InetAddress to, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(to, port), 3000);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    /** Sends {@code message} on a connected socket, half-closes, and reads the whole answer. */
    static String exchange(Socket socket, String message) throws IOException {
        socket.setSoTimeout(3000);
        socket.getOutputStream().write(message.getBytes(StandardCharsets.UTF_8));
        socket.shutdownOutput();
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    /** A datagram from an unconnected socket in {@code netns} to {@code to}:{@code port}: "answer from host:port". */
    static String udp(Path netns, InetAddress to, int port, String message) throws Exception {
        try (DatagramSocket socket = NetNs.callIn(netns, DatagramSocket::new)) {
            socket.setSoTimeout(3000);
            byte[] payload = message.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(payload, payload.length, to, port));
            byte[] buffer = new byte[256];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            socket.receive(answer);
            return new String(buffer, 0, answer.getLength(), StandardCharsets.UTF_8) + " from "
                    + answer.getAddress().getHostAddress() + ":" + answer.getPort();
        }
    }

    @Override
    public void close() throws Exception {
        tcp.close();
        udp.close();
    }
}
