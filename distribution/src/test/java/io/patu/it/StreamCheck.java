package io.patu.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A TCP stream whose every byte is checked: the client sends a deterministic pattern, the server
 * verifies it byte for byte and reports the first difference. iperf3 counts bytes but never looks at
 * them; this proves that data is neither lost, duplicated nor reordered across datapath changes.
 * Run as its own process (inside a pod's netns and the test cgroup):
 * <ul>
 * <li>{@code server ADDRESS PORT}: one connection; prints "LISTENING", then "OK <bytes>" or "CORRUPT ...";
 * <li>{@code client ADDRESS PORT BYTES WRITE_SIZE}: sends one stream, printing "CONNECTED" once connected;
 * <li>{@code client-paced ADDRESS PORT BYTES WRITE_SIZE MBITS}: the same at a steady MBITS Mbit/s: each write
 * waits for its turn on a fixed schedule, and a sender that fell behind (blocked in a write) does not burst
 * to catch up, so the stream never backpressures a reader that keeps up (MBITS 0: as fast as it can);
 * <li>{@code serve-gaps ADDRESS PORT}: like {@code server}, and each line on its stdin is answered with
 * "GAP <ms> <bytes>": the longest time, since the previous line, between two successful reads (the interval
 * still open counts too), and the bytes read since then. This is what an application sees of a pause;
 * <li>{@code serve-many ADDRESS PORT}: connections one after another, a verdict line for each;
 * <li>{@code send-many ADDRESS PORT BYTES WRITE_SIZE}: new connections until its stdin ends, then prints
 * "SENT <connections>"; "ERROR ..." and exit 3 on the first failure;
 * <li>{@code serve-reply ADDRESS PORT} and {@code request ADDRESS PORT BYTES WRITE_SIZE}: the client sends,
 * half-closes (shutdown SHUT_WR) and reads the server's verdict, which the server writes back once it has
 * read the client's end of stream; the client prints "REPLY <verdict>";
 * <li>{@code serve-fionread ADDRESS PORT BYTES}: like {@code server}, but first waits, without reading, until
 * FIONREAD ({@link InputStream#available()}) reports all BYTES waiting, and prints "FIONREAD <n>" (0 after
 * 10 s of nothing), as event-loop servers such as nginx ask before they read;
 * <li>{@code serve-concurrent ADDRESS PORT N} and {@code connect-concurrent ADDRESS PORT N BYTES}: the client
 * opens N connections and holds them all open, then sends BYTES on each and closes them; the server accepts
 * all N, verifies each, and prints "OK <connections> <bytes>" or the first failure;
 * <li>{@code serve-paused ADDRESS PORT}: like {@code server}, but prints "ACCEPTED" and reads nothing until a
 * line arrives on its stdin: a reader that stalls while the writer goes on;
 * <li>{@code serve-echo ADDRESS PORT} and {@code pingpong ADDRESS PORT ROUNDS SIZE}: request/response; the
 * client sends SIZE bytes, the server checks and returns them, ROUNDS times; the client prints "OK <rounds>";
 * <li>{@code serve-phased ADDRESS PORT FIRST} and {@code phased ADDRESS PORT FIRST FIRST_WRITE REST REST_WRITE}:
 * one stream in two phases: FIRST bytes in FIRST_WRITE writes, then the client waits for the server's
 * one-byte acknowledgement of them, then REST more bytes in REST_WRITE writes; the server prints its verdict
 * on the whole stream ({@code serve-paused-phased}: it first prints "ACCEPTED" and reads nothing until a line
 * arrives on its stdin).
 * </ul>
 */
public final class StreamCheck {
    private StreamCheck() {
    }

    /** The pattern byte at a stream offset: position-dependent, so a lost or repeated chunk shows. */
    static byte expected(long offset) {
        long x = offset / 8 * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> (8 * (int) (offset % 8)));
    }

    public static void main(String[] args) throws Exception {
        InetAddress address = InetAddress.ofLiteral(args[1]);
        int port = Integer.parseInt(args[2]);
        switch (args[0]) {
            case "server" -> serve(address, port, 1);
            case "serve-many" -> serve(address, port, Integer.MAX_VALUE);
            case "client" -> {
                try (Socket socket = new Socket(address, port)) {
                    System.out.println("CONNECTED");
                    System.out.flush();
                    writePattern(socket.getOutputStream(), Long.parseLong(args[3]), Integer.parseInt(args[4]));
                }
                System.out.println("SENT " + args[3]);
            }
            case "client-paced" -> {
                try (Socket socket = new Socket(address, port)) {
                    System.out.println("CONNECTED");
                    System.out.flush();
                    writePaced(socket.getOutputStream(), Long.parseLong(args[3]), Integer.parseInt(args[4]),
                            Long.parseLong(args[5]));
                }
                System.out.println("SENT " + args[3]);
            }
            case "serve-gaps" -> serveGaps(address, port);
            case "send-many" -> sendMany(address, port, Long.parseLong(args[3]), Integer.parseInt(args[4]));
            case "serve-reply" -> serveReply(address, port);
            case "serve-fionread" -> serveAfterFionread(address, port, Long.parseLong(args[3]));
            case "serve-concurrent" -> serveConcurrent(address, port, Integer.parseInt(args[3]));
            case "connect-concurrent" -> connectConcurrent(address, port, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "request" -> request(address, port, Long.parseLong(args[3]), Integer.parseInt(args[4]));
            case "serve-paused" -> servePaused(address, port);
            case "serve-echo" -> serveEcho(address, port);
            case "pingpong" -> pingPong(address, port, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "serve-phased" -> servePhased(address, port, Long.parseLong(args[3]), false);
            case "serve-paused-phased" -> servePhased(address, port, Long.parseLong(args[3]), true);
            case "phased" -> phased(address, port, Long.parseLong(args[3]), Integer.parseInt(args[4]),
                    Long.parseLong(args[5]), Integer.parseInt(args[6]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static void serve(InetAddress address, int port, int connections) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(address, port));
            System.out.println("LISTENING");
            System.out.flush();
            for (int c = 0; c < connections; c++) {
                try (Socket socket = server.accept()) {
                    System.out.println(verify(socket.getInputStream()));
                    System.out.flush();
                }
            }
        }
    }

    private static String verify(InputStream in) {
        return verify(in, 0, Long.MAX_VALUE);
    }

    /** Checks the stream from pattern offset {@code start} until end of stream or {@code end}. */
    private static String verify(InputStream in, long start, long end) {
        return verify(in, start, end, n -> { });
    }

    /** As {@link #verify(InputStream, long, long)}, telling {@code onRead} the size of each successful read. */
    private static String verify(InputStream in, long start, long end, IntConsumer onRead) {
        byte[] buffer = new byte[256 * 1024];
        long offset = start;
        try {
            for (int n; offset < end && (n = in.read(buffer, 0, (int) Math.min(buffer.length, end - offset))) > 0; ) {
                onRead.accept(n);
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != expected(offset + i)) {
                        return "CORRUPT at offset " + (offset + i);
                    }
                }
                offset += n;
            }
            return "OK " + offset;
        } catch (IOException e) {
            return "ERROR after " + offset + " bytes: " + e;
        }
    }

    private static void send(InetAddress address, int port, long bytes, int writeSize) throws IOException {
        try (Socket socket = new Socket(address, port)) {
            writePattern(socket.getOutputStream(), bytes, writeSize);
        }
    }

    private static void writePattern(OutputStream out, long bytes, int writeSize) throws IOException {
        writePattern(out, 0, bytes, writeSize);
    }

    /** Writes pattern offsets {@code start} to {@code end}, one write call per {@code writeSize} bytes. */
    private static void writePattern(OutputStream out, long start, long end, int writeSize) throws IOException {
        writePattern(out, start, end, writeSize, () -> { });
    }

    /** As above, running {@code beforeWrite} before each write call (pacing). */
    private static void writePattern(OutputStream out, long start, long end, int writeSize, Runnable beforeWrite)
            throws IOException {
        byte[] chunk = new byte[writeSize];
        for (long offset = start; offset < end; offset += writeSize) {
            int n = (int) Math.min(writeSize, end - offset);
            for (int i = 0; i < n; i++) {
                chunk[i] = expected(offset + i);
            }
            beforeWrite.run();
            out.write(chunk, 0, n);
        }
    }

    /** Pattern offsets 0 to {@code bytes} in {@code writeSize} writes, one every writeSize*8/MBITS microseconds (unpaced: 0). */
    private static void writePaced(OutputStream out, long bytes, int writeSize, long mbits) throws IOException {
        if (mbits <= 0) {
            writePattern(out, bytes, writeSize);
            return;
        }
        long interval = writeSize * 8L * 1000 / mbits;
        long[] next = {System.nanoTime()};
        writePattern(out, 0, bytes, writeSize, () -> {
            long wait = next[0] - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else if (wait < -10 * interval) {
                // Behind by more than 10 writes: start the schedule again rather than burst.
                next[0] = System.nanoTime();
            }
            next[0] += interval;
        });
    }

    private static void serveGaps(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket(); Socket socket = acceptOne(server, address, port)) {
            ReadGaps gaps = new ReadGaps();
            Thread marks = new Thread(() -> {
                try {
                    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
                    while (in.readLine() != null) {
                        String gap = gaps.window();
                        synchronized (System.out) {
                            System.out.println(gap);
                            System.out.flush();
                        }
                    }
                } catch (IOException e) {
                    // stdin closed: no more windows
                }
            }, "gap-marks");
            marks.setDaemon(true);
            marks.start();
            String verdict = verify(socket.getInputStream(), 0, Long.MAX_VALUE, gaps::read);
            synchronized (System.out) {
                System.out.println(verdict);
                System.out.flush();
            }
        }
    }

    /** Times between successful reads, in windows that each stdin line of serve-gaps closes. */
    private static final class ReadGaps {
        private long lastRead = System.nanoTime();
        private long longest;
        private long bytes;

        synchronized void read(int n) {
            long now = System.nanoTime();
            longest = Math.max(longest, now - lastRead);
            lastRead = now;
            bytes += n;
        }

        synchronized String window() {
            long gap = Math.max(longest, System.nanoTime() - lastRead);
            String line = "GAP " + gap / 1_000_000 + " " + bytes;
            longest = 0;
            bytes = 0;
            return line;
        }
    }

    private static void serveAfterFionread(InetAddress address, int port, long bytes) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(address, port));
            System.out.println("LISTENING");
            System.out.flush();
            try (Socket socket = server.accept()) {
                InputStream in = socket.getInputStream();
                long deadline = System.nanoTime() + 10_000_000_000L;
                int waiting = in.available();
                while (waiting < bytes && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    waiting = in.available();
                }
                System.out.println("FIONREAD " + waiting);
                System.out.println(verify(in));
            }
        }
    }

    private static void serveConcurrent(InetAddress address, int port, int connections) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(address, port), 4096);
            System.out.println("LISTENING");
            System.out.flush();
            java.util.List<Socket> accepted = new java.util.ArrayList<>();
            try {
                while (accepted.size() < connections) {
                    accepted.add(server.accept());
                }
                long total = 0;
                for (int c = 0; c < accepted.size(); c++) {
                    String verdict = verify(accepted.get(c).getInputStream());
                    if (!verdict.startsWith("OK ")) {
                        System.out.println("connection " + c + ": " + verdict);
                        return;
                    }
                    total += Long.parseLong(verdict.substring(3));
                }
                System.out.println("OK " + accepted.size() + " " + total);
            } finally {
                for (Socket socket : accepted) {
                    socket.close();
                }
            }
        }
    }

    private static void connectConcurrent(InetAddress address, int port, int connections, int bytes) throws IOException {
        java.util.List<Socket> open = new java.util.ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                open.add(new Socket(address, port));
            }
            System.out.println("CONNECTED " + open.size());
            for (Socket socket : open) {
                writePattern(socket.getOutputStream(), bytes, bytes);
                socket.shutdownOutput();
            }
        } finally {
            for (Socket socket : open) {
                socket.close();
            }
        }
        System.out.println("SENT " + connections);
    }

    private static void serveReply(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(address, port));
            System.out.println("LISTENING");
            System.out.flush();
            try (Socket socket = server.accept()) {
                String verdict = verify(socket.getInputStream());
                socket.getOutputStream().write((verdict + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                System.out.println(verdict);
            }
        }
    }

    private static void request(InetAddress address, int port, long bytes, int writeSize) throws IOException {
        try (Socket socket = new Socket(address, port)) {
            writePattern(socket.getOutputStream(), bytes, writeSize);
            socket.shutdownOutput();
            socket.setSoTimeout(30_000);
            String reply = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
            System.out.println("REPLY " + reply);
        }
    }

    private static void sendMany(InetAddress address, int port, long bytes, int writeSize) {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the test ends us by closing stdin
                }
            } catch (IOException e) {
                // same as end of input
            }
            stop.set(true);
        });
        watcher.setDaemon(true);
        watcher.start();
        int connections = 0;
        while (!stop.get()) {
            try {
                send(address, port, bytes, writeSize);
                connections++;
            } catch (IOException e) {
                System.out.println("ERROR on connection " + connections + ": " + e);
                System.exit(3);
            }
        }
        System.out.println("SENT " + connections);
    }

    private static Socket acceptOne(ServerSocket server, InetAddress address, int port) throws IOException {
        server.bind(new InetSocketAddress(address, port));
        System.out.println("LISTENING");
        System.out.flush();
        return server.accept();
    }

    private static void servePaused(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket(); Socket socket = acceptOne(server, address, port)) {
            System.out.println("ACCEPTED");
            System.out.flush();
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            System.out.println(verify(socket.getInputStream()));
        }
    }

    private static void serveEcho(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket(); Socket socket = acceptOne(server, address, port)) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[64 * 1024];
            long offset = 0;
            for (int n; (n = in.read(buffer)) > 0; offset += n) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != expected(offset + i)) {
                        System.out.println("CORRUPT at offset " + (offset + i));
                        return;
                    }
                }
                out.write(buffer, 0, n);
            }
            System.out.println("OK " + offset);
        }
    }

    private static void pingPong(InetAddress address, int port, int rounds, int size) throws IOException {
        try (Socket socket = new Socket(address, port)) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int r = 0; r < rounds; r++) {
                long start = (long) r * size;
                writePattern(out, start, start + size, size);
                String verdict = verify(in, start, start + size);
                if (!verdict.equals("OK " + (start + size))) {
                    System.out.println("round " + r + ": " + verdict);
                    return;
                }
            }
            System.out.println("OK " + rounds);
        }
    }

    private static void servePhased(InetAddress address, int port, long first, boolean paused) throws IOException {
        try (ServerSocket server = new ServerSocket(); Socket socket = acceptOne(server, address, port)) {
            if (paused) {
                System.out.println("ACCEPTED");
                System.out.flush();
                new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            }
            InputStream in = socket.getInputStream();
            String verdict = verify(in, 0, first);
            if (!verdict.equals("OK " + first)) {
                System.out.println("first phase: " + verdict);
                return;
            }
            socket.getOutputStream().write('A');
            System.out.println(verify(in, first, Long.MAX_VALUE));
        }
    }

    private static void phased(InetAddress address, int port, long first, int firstWrite, long rest, int restWrite)
            throws IOException {
        try (Socket socket = new Socket(address, port)) {
            socket.setSoTimeout(60_000);
            writePattern(socket.getOutputStream(), 0, first, firstWrite);
            if (socket.getInputStream().read() != 'A') {
                throw new IOException("no acknowledgement of the first phase");
            }
            writePattern(socket.getOutputStream(), first, first + rest, restWrite);
        }
        System.out.println("SENT " + (first + rest));
    }
}
