package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.patu.api.CniError;
import io.patu.api.PatuException;

/**
 * The agent socket serves root only, checked per connection with the peer's kernel credentials
 * (SO_PEERCRED), not only by the file's mode. The socket is loosened to 0666 here so that another user can
 * connect at all; the other user is a real one (nobody, through setpriv), speaking from another process.
 * Needs root (to own the socket and switch users): skipped otherwise, failed on CI (CI=true).
 */
class PeerCredentialsTest {
    private static final int NOBODY = 65534;
    /** A client that sends its stdin to the socket and prints everything the agent answers. */
    private static final String CLIENT = "use IO::Socket::UNIX; binmode STDIN; binmode STDOUT; local $/;"
            + " my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0]) or die \"connect: $!\";"
            + " my $request = <STDIN>; syswrite($s, $request);"
            + " while (sysread($s, my $chunk, 65536)) { print $chunk }";

    private Path dir;
    private Path socket;
    private AgentSocketServer server;
    private final AtomicInteger handled = new AtomicInteger();
    private final List<String> warnings = new ArrayList<>();
    private final Handler log = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (warnings) {
                warnings.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        boolean root = "0".equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString());
        if (!root) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("PeerCredentialsTest needs root; CI=true forbids skipping it");
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "needs root");
        }
        dir = Files.createTempDirectory("patu-peercred");
        socket = dir.resolve("patu.sock");
        RequestRoute cni = new RequestRoute(WireRequest.MAGIC, WireRequest::totalLength, bytes -> {
            handled.incrementAndGet();
            return WireResponse.success("served".getBytes(StandardCharsets.UTF_8));
        }, CniVerbs::rejected, Runnable::run);
        RequestRoute shell = new RequestRoute(ShellRequest.MAGIC, ShellRequest::totalLength, bytes -> {
            handled.incrementAndGet();
            return WireResponse.success("served\n".getBytes(StandardCharsets.UTF_8));
        }, RemoteShell::rejected, Runnable::run);
        Logger.getLogger(AgentSocketServer.class.getName()).addHandler(log);
        server = new AgentSocketServer(socket, List.of(cni, shell));
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        Logger.getLogger(AgentSocketServer.class.getName()).removeHandler(log);
        if (server != null) {
            server.close();
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    static byte[] cniFrame(String env, String stdin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(WireRequest.MAGIC);
        out.writeBytes(env.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        byte[] body = stdin.getBytes(StandardCharsets.UTF_8);
        out.writeBytes((body.length + "\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        return out.toByteArray();
    }

    @Test
    void theSocketFileIsRootsWithMode0600() throws Exception {
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(socket));
        assertEquals(0, Files.getAttribute(socket, "unix:uid"));
        assertEquals(0, Files.getAttribute(socket, "unix:gid"));
    }

    @Test
    void rootIsServed() throws Exception {
        assertEquals("0\nserved", asRoot(cniFrame("CNI_COMMAND=VERSION\0", "{}")));
        assertEquals("0\nserved\n", asRoot(ShellFramingTest.frame("lb")));
        assertEquals(2, handled.get());
    }

    @Test
    void anyoneElseIsRefusedInTheLanguageOfTheFrameAndNothingReachesARoute() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));

        String cni = asNobody(cniFrame("CNI_COMMAND=ADD\0CNI_CONTAINERID=x\0", "{\"cniVersion\":\"1.0.0\"}"));
        assertTrue(cni.startsWith("1\n{"), cni);
        assertTrue(cni.contains("\"code\":" + AgentSocketServer.NOT_PERMITTED), cni);
        assertTrue(cni.contains("only root (uid 0)") && cni.contains("uid " + NOBODY), cni);

        String shell = asNobody(ShellFramingTest.frame("stop 0"));
        assertTrue(shell.startsWith("1\npatu: permission denied: only root (uid 0)"), shell);
        assertTrue(shell.endsWith("\n") && !shell.contains("{"), "plain text: " + shell);

        // Not a Patu frame at all: the CNI route's language, still a refusal rather than "bad magic".
        String garbage = asNobody("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(garbage.contains("\"code\":" + AgentSocketServer.NOT_PERMITTED), garbage);

        assertEquals(0, handled.get(), "no refused request reached a route");
        synchronized (warnings) {
            assertTrue(warnings.stream().anyMatch(w -> w.contains("refused a connection to " + socket) && w.contains("uid " + NOBODY)),
                    "the refusal is logged with the caller's uid: " + warnings);
        }
        // Root is still served after refusals.
        assertEquals("0\nserved", asRoot(cniFrame("CNI_COMMAND=VERSION\0", "{}")));
    }

    @Test
    void aRefusedCallerGetsTheCniCodeForPermissionDenied() {
        WireResponse answer = CniVerbs.rejected(new PatuException(AgentSocketServer.NOT_PERMITTED, "x"));
        String json = new String(answer.stdout(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"code\":102"), json);
        assertTrue(AgentSocketServer.NOT_PERMITTED >= 100, "a plugin-specific code, outside the spec's 0-99");
        assertTrue(AgentSocketServer.NOT_PERMITTED != CniError.TRY_AGAIN);
    }

    private String asRoot(byte[] request) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(request));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (channel.read(buffer.clear()) > 0) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    private String asNobody(byte[] request) throws Exception {
        Process client = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "perl", "-e", CLIENT, socket.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (OutputStream in = client.getOutputStream()) {
            in.write(request);
        }
        String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(client.waitFor(30, TimeUnit.SECONDS), "client finished");
        assertEquals(0, client.exitValue(), "the client connected and read an answer: " + answer);
        return answer;
    }
}
