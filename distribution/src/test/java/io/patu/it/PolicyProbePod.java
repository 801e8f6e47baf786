package io.patu.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One conformance pod's processes, as the upstream e2e pods run them: servers on the ports given as arguments
 * (80 and 81 without any), TCP (accept and echo) and UDP (echo), and a prober that connects to other pods on
 * demand. Run as its own JVM inside the
 * pod's network namespace and the agent's test cgroup (so its TCP sockets are the ones socket redirection
 * sees). It prints "READY" once every server is bound, then answers each stdin line
 * {@code PROBE TIMEOUT_MS ADDRESS:PORT/PROTO ...} with one line {@code RESULT} followed by one character per
 * target, '1' reached or '0' not, all targets probed in parallel. It exits when its stdin ends.
 *
 * <p>A TCP target is reached when the connection opens within the timeout and a message sent on it comes back
 * (with socket redirection, a message is what sk_msg decides on); a UDP target when a datagram comes back.
 */
public final class PolicyProbePod {
    private static final int[] DEFAULT_PORTS = {80, 81};
    private static final byte[] PING = "patu-conformance-ping".getBytes(StandardCharsets.US_ASCII);

    private PolicyProbePod() {
    }

    public static void main(String[] args) throws Exception {
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        int[] ports = args.length == 0 ? DEFAULT_PORTS : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        for (int port : ports) {
            ServerSocket tcp = new ServerSocket();
            tcp.setReuseAddress(true);
            tcp.bind(new InetSocketAddress(port), 1024);
            threads.submit(() -> acceptLoop(tcp, threads));
            DatagramSocket udp = new DatagramSocket(port);
            threads.submit(() -> echoDatagrams(udp));
        }
        System.out.println("READY");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null; ) {
            String[] words = line.trim().split(" ");
            if (words.length < 2 || !words[0].equals("PROBE")) {
                System.out.println("ERROR unknown request: " + line);
                System.out.flush();
                continue;
            }
            int timeout = Integer.parseInt(words[1]);
            List<Future<Boolean>> results = new ArrayList<>();
            for (String target : Arrays.asList(words).subList(2, words.length)) {
                results.add(threads.submit(() -> probe(target, timeout)));
            }
            StringBuilder answer = new StringBuilder("RESULT ");
            for (Future<Boolean> result : results) {
                answer.append(result.get() ? '1' : '0');
            }
            System.out.println(answer);
            System.out.flush();
        }
        System.exit(0);
    }

    /** ADDRESS:PORT/PROTO, the address an IPv4 literal or a bracketed IPv6 one. */
    static boolean probe(String target, int timeoutMillis) {
        int colon = target.lastIndexOf(':');
        int slash = target.indexOf('/', colon);
        InetAddress address = InetAddress.ofLiteral(target.substring(0, colon).replace("[", "").replace("]", ""));
        int port = Integer.parseInt(target.substring(colon + 1, slash));
        try {
            return switch (target.substring(slash + 1)) {
                case "TCP" -> tcp(new InetSocketAddress(address, port), timeoutMillis);
                case "UDP" -> udp(new InetSocketAddress(address, port), timeoutMillis);
                default -> throw new IllegalArgumentException("protocol of " + target);
            };
        } catch (IOException e) {
            return false; // timed out, refused, reset, or EACCES from a sk_msg drop
        }
    }

    private static boolean tcp(InetSocketAddress server, int timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try (Socket socket = new Socket()) {
            socket.connect(server, timeoutMillis);
            socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            socket.getOutputStream().write(PING);
            return Arrays.equals(PING, socket.getInputStream().readNBytes(PING.length));
        }
    }

    private static boolean udp(InetSocketAddress server, int timeoutMillis) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(timeoutMillis);
            socket.send(new DatagramPacket(PING, PING.length, server));
            byte[] buffer = new byte[PING.length + 1];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            return reply.getLength() == PING.length && Arrays.equals(PING, Arrays.copyOf(buffer, PING.length));
        }
    }

    private static Void acceptLoop(ServerSocket server, ExecutorService threads) throws IOException {
        while (true) {
            Socket connection = server.accept();
            threads.submit(() -> echo(connection));
        }
    }

    private static Void echo(Socket connection) {
        try (connection; InputStream in = connection.getInputStream(); OutputStream out = connection.getOutputStream()) {
            // A prober that gave up leaves; do not hold its connection for ever.
            connection.setSoTimeout(30_000);
            byte[] buffer = new byte[4096];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // The prober closed or reset: nothing to answer.
        }
        return null;
    }

    private static Void echoDatagrams(DatagramSocket socket) throws IOException {
        byte[] buffer = new byte[2048];
        while (true) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            socket.receive(packet);
            socket.send(new DatagramPacket(packet.getData(), packet.getLength(), packet.getSocketAddress()));
        }
    }
}
