package io.patu.datapath.xdp.internal;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.patu.kernel.netns.NetNs;

/** UDP and TCP between pods, from the pods' own namespaces. */
final class Traffic {
    private static final int BATCH = 100;
    private Traffic() {
    }

    /**
     * Sends {@code count} datagrams from {@code fromNetns} to {@code to}:{@code port}, received in {@code toNetns}
     * (null: the host's); returns how many arrived.
     */
    static int udp(Path fromNetns, Path toNetns, InetAddress to, int port, int count) throws Exception {
        try (DatagramSocket receiver = toNetns == null ? new DatagramSocket(new InetSocketAddress(to, port))
                : NetNs.callIn(toNetns, () -> new DatagramSocket(new InetSocketAddress(to, port)));
                DatagramSocket sender = NetNs.callIn(fromNetns, DatagramSocket::new)) {
            return exchange(sender, receiver, to, port, count);
        }
    }

    private static int exchange(DatagramSocket sender, DatagramSocket receiver, InetAddress to, int port, int count)
            throws Exception {
        receiver.setSoTimeout(1000);
        byte[] payload = new byte[64];
        byte[] buffer = new byte[2048];
        int received = 0;
        // In batches the receive buffer holds, so a loss means a packet went astray, not a full queue.
        for (int sent = 0; sent < count; ) {
            int batch = Math.min(BATCH, count - sent);
            for (int i = 0; i < batch; i++) {
                sender.send(new DatagramPacket(payload, payload.length, to, port));
            }
            sent += batch;
            try {
                while (received < sent) {
                    receiver.receive(new DatagramPacket(buffer, buffer.length));
                    received++;
                }
            } catch (SocketTimeoutException e) {
                // Lost, or dropped on purpose: send the rest all the same, waiting less for them.
                receiver.setSoTimeout(200);
            }
        }
        return received;
    }

    /** As {@link #udp}, with the sender bound to {@code source}. */
    static int udpFrom(Path fromNetns, InetAddress source, Path toNetns, InetAddress to, int port, int count)
            throws Exception {
        try (DatagramSocket receiver = NetNs.callIn(toNetns, () -> new DatagramSocket(new InetSocketAddress(to, port)));
                DatagramSocket sender = NetNs.callIn(fromNetns, () -> new DatagramSocket(new InetSocketAddress(source, 0)))) {
            return exchange(sender, receiver, to, port, count);
        }
    }

    /** Streams {@code bytes} over TCP from {@code fromNetns} to {@code to}:{@code port}; returns bytes read. */
    static long tcp(Path fromNetns, Path toNetns, InetAddress to, int port, long bytes) throws Exception {
        try (ServerSocket server = NetNs.callIn(toNetns, () -> new ServerSocket(port, 1, to))) {
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                try (Socket accepted = server.accept(); InputStream in = accepted.getInputStream()) {
                    long total = 0;
                    byte[] buffer = new byte[65536];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        total += n;
                    }
                    return total;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket client = NetNs.callIn(fromNetns, () -> {
                Socket socket = new Socket();
                socket.connect(new InetSocketAddress(to, port), 5000);
                return socket;
            }); OutputStream out = client.getOutputStream()) {
                byte[] chunk = new byte[16384];
                for (long sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, bytes - sent));
                }
            }
            return read.get(30, TimeUnit.SECONDS);
        }
    }
}
