package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.netty.channel.Channel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.patu.api.PatuException;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The agent's root-only Unix socket, served by Vert.x: each connection carries one request, read until
 * its framing says it is complete, handed to the executor of its {@link RequestRoute}, answered, closed.
 * The event loop never blocks. The first route also answers requests that match no route.
 *
 * <p>Only root may talk to the agent. The socket file is root's with mode 0600, and each connection's peer
 * is checked as well, with the credentials the kernel recorded at connect (SO_PEERCRED): a socket file
 * whose mode was loosened by mistake, or a descriptor passed on to another user, still reaches nobody but
 * root. A refused peer gets an answer in the language of its frame (a CNI error, or a line of text for the
 * shell) as soon as its first bytes say which, and nothing it sent is ever handed to a route.
 */
final class AgentSocketServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentSocketServer.class.getName());
    private static final int IDLE_TIMEOUT_SECONDS = 30;
    /**
     * The CNI error code of a refused caller. None of the spec's well-known codes (0-99) means "permission
     * denied": 4 is about the CNI_* variables, 5 about I/O, and 11 ("try again later") would make a runtime
     * retry something that can never succeed. The spec leaves 100 and up to plugins; Patu uses 100 for a
     * failed kernel operation and this one for a caller that is not root.
     */
    static final int NOT_PERMITTED = io.patu.api.CniError.NOT_PERMITTED;
    /** The only uid the agent serves. */
    private static final int ROOT_UID = 0;

    private final Path socketPath;
    private final List<RequestRoute> routes;
    /** Enough bytes to tell every route's magic apart: after this many, a peer is answered. */
    private final int longestMagic;
    private Vertx vertx;
    private NetServer server;
    /** The principal of uid 0, as the JDK names it; peers must be this user. Known before the socket listens. */
    private UserPrincipal root;

    AgentSocketServer(Path socketPath, List<RequestRoute> routes) {
        this.socketPath = socketPath;
        this.routes = List.copyOf(routes);
        this.longestMagic = routes.stream().mapToInt(r -> r.magic().length).max().orElse(1);
    }

    void start() throws IOException {
        root = rootPrincipal();
        prepareSocketPath();
        // Vert.x finds its service providers through the context class loader; inside a bundle that must be
        // the bundle's own loader, which holds the embedded Vert.x jars.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(AgentSocketServer.class.getClassLoader());
        try {
            // One Unix socket, no files served, no host names resolved: one event loop, the smallest pools,
            // and neither the file cache nor class-path resolving of Vert.x's file system (about 30 classes
            // and a cache directory the agent never uses). bin/patu also sets vertx.disableDnsResolver, which
            // keeps Netty's DNS resolver (about 90 classes) out.
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                    .setInternalBlockingPoolSize(1).setPreferNativeTransport(false)
                    .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                            .setClassPathResolvingEnabled(false)));
            server = vertx.createNetServer(new NetServerOptions().setIdleTimeout(IDLE_TIMEOUT_SECONDS)
                    .setIdleTimeoutUnit(TimeUnit.SECONDS));
            server.connectHandler(this::serve);
            await(server.listen(SocketAddress.domainSocketAddress(socketPath.toString())).toCompletionStage()
                    .toCompletableFuture());
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        } finally {
            thread.setContextClassLoader(previous);
        }
        // Only root may ask the agent to change the network.
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
        try {
            Files.setAttribute(socketPath, "unix:uid", ROOT_UID);
            Files.setAttribute(socketPath, "unix:gid", ROOT_UID);
        } catch (IOException | RuntimeException e) {
            close();
            throw new IOException("cannot give the agent socket " + socketPath + " to root (uid 0): " + e.getMessage(), e);
        }
    }

    /**
     * The JDK's principal for uid 0, read from the kernel's numbers rather than looked up by name: the owner
     * of /proc/self, which is this process's effective uid, and must be 0.
     */
    private static UserPrincipal rootPrincipal() throws IOException {
        Path self = Path.of("/proc/self");
        Object uid = Files.getAttribute(self, "unix:uid");
        if (!Integer.valueOf(ROOT_UID).equals(uid)) {
            throw new IOException("the Patu agent must run as root (uid 0) to serve its root-only socket; it runs as uid " + uid);
        }
        return Files.getOwner(self);
    }

    /**
     * Why the peer of {@code socket} may not use the agent, or null if it is root. The kernel records the
     * peer's credentials at connect(2); the JDK reads them (SO_PEERCRED on Linux) from the NIO channel under
     * the Vert.x socket, through Netty's channel option for JDK socket options. Anything unreadable refuses.
     */
    String refusal(NetSocket socket) {
        UnixDomainPrincipal peer;
        try {
            Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
            peer = channel.config().getOption(NioChannelOption.of(ExtendedSocketOptions.SO_PEERCRED));
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.WARNING, "refused a connection to " + socketPath + ": its peer's credentials cannot be read", e);
            return "the agent cannot read the credentials of its caller (SO_PEERCRED), so it refuses it";
        }
        if (peer == null) {
            LOG.warning(() -> "refused a connection to " + socketPath + ": the transport gives no peer credentials");
            return "the agent cannot read the credentials of its caller (SO_PEERCRED), so it refuses it";
        }
        if (peer.user().equals(root)) {
            return null;
        }
        String who = describe(peer);
        LOG.warning(() -> "refused a connection to " + socketPath + " from " + who + ": only root (uid 0) may use the agent");
        return "permission denied: only root (uid 0) may use the Patu agent; the caller is " + who;
    }

    /**
     * The peer as the JDK gives it: user and group names, or their numbers when they have no name. The JDK
     * reads uid and gid but not the pid from SO_PEERCRED.
     */
    private String describe(UnixDomainPrincipal peer) {
        return "user " + CniRequest.printable(peer.user().getName()) + " (uid " + uidOf(peer.user())
                + "), group " + CniRequest.printable(peer.group().getName());
    }

    /**
     * The numeric uid behind a JDK user principal, for the log only. The JDK names a uid without a passwd
     * entry by its number; otherwise its Unix principals hash to their id, as root's shows (hash 0): if
     * that ever stops being so, the log says "unknown" rather than a wrong number. Decisions never use it.
     */
    private String uidOf(UserPrincipal user) {
        String name = user.getName();
        if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
            return name;
        }
        return root.hashCode() == ROOT_UID ? String.valueOf(user.hashCode()) : "unknown";
    }

    private void serve(NetSocket socket) {
        String refusal = refusal(socket);
        Buffer request = Buffer.buffer();
        RequestRoute[] route = {null};
        boolean[] answered = {false};
        socket.handler(chunk -> {
            if (answered[0]) {
                return;
            }
            request.appendBuffer(chunk);
            byte[] bytes = request.getBytes();
            int total;
            try {
                if (route[0] == null && (route[0] = RequestRoute.select(routes, bytes)) == null) {
                    if (refusal != null && bytes.length >= longestMagic) {
                        throw new PatuException(NOT_PERMITTED, refusal);
                    }
                    return; // too short to tell the frame types apart
                }
                if (refusal != null) {
                    answered[0] = true;
                    socket.end(Buffer.buffer(refuse(route[0], refusal).encode()));
                    return;
                }
                total = route[0].framing().totalLength(bytes, bytes.length);
            } catch (RuntimeException e) {
                // Malformed or oversized: answer at once, without reading the rest.
                answered[0] = true;
                RequestRoute answering = route[0] != null ? route[0] : routes.getFirst();
                socket.end(Buffer.buffer((refusal != null ? refuse(answering, refusal) : answering.rejected().apply(e)).encode()));
                return;
            }
            if (total != Frames.INCOMPLETE && bytes.length >= total) {
                answered[0] = true;
                byte[] complete = bytes.length == total ? bytes : Arrays.copyOf(bytes, total);
                RequestRoute chosen = route[0];
                chosen.executor().execute(() -> socket.end(Buffer.buffer(chosen.handler().apply(complete).encode())));
            }
        });
    }

    /** The refusal in the language of the route: a CNI error, or plain text for the shell. */
    private static WireResponse refuse(RequestRoute route, String refusal) {
        if (Arrays.equals(route.magic(), ShellRequest.MAGIC)) {
            return new WireResponse(1, ("patu: " + refusal + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return route.rejected().apply(new PatuException(NOT_PERMITTED, refusal));
    }

    /** Refuses to start over a live agent; removes the socket file a dead one left behind. */
    private void prepareSocketPath() throws IOException {
        Files.createDirectories(socketPath.toAbsolutePath().getParent());
        if (Files.exists(socketPath)) {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(socketPath));
                throw new IOException("another Patu agent is already serving " + socketPath
                        + "; stop it first or configure another socketPath");
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("another Patu agent")) {
                    throw e;
                }
                Files.delete(socketPath);
            }
        }
    }

    @Override
    public void close() {
        if (vertx != null) {
            try {
                await(vertx.close().toCompletionStage().toCompletableFuture());
            } catch (IOException e) {
                // Closing is best effort; the socket file is removed below either way.
            }
            vertx = null;
        }
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            // Left behind, it is cleaned up by the next start (prepareSocketPath).
        }
    }

    private static void await(java.util.concurrent.CompletableFuture<?> future) throws IOException {
        try {
            future.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Vert.x did not answer in 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
