package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

/**
 * The agent's root-only Unix socket, served by Vert.x: each connection carries one request, read until
 * its framing says it is complete, handed to the executor of its {@link RequestRoute}, answered, closed.
 * The event loop never blocks. The first route also answers requests that match no route.
 */
final class AgentSocketServer implements AutoCloseable {
    private static final int IDLE_TIMEOUT_SECONDS = 30;

    private final Path socketPath;
    private final List<RequestRoute> routes;
    private Vertx vertx;
    private NetServer server;

    AgentSocketServer(Path socketPath, List<RequestRoute> routes) {
        this.socketPath = socketPath;
        this.routes = List.copyOf(routes);
    }

    void start() throws IOException {
        prepareSocketPath();
        // Vert.x finds its service providers through the context class loader; inside a bundle that must be
        // the bundle's own loader, which holds the embedded Vert.x jars.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(AgentSocketServer.class.getClassLoader());
        try {
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                    .setInternalBlockingPoolSize(1).setPreferNativeTransport(false));
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
    }

    private void serve(NetSocket socket) {
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
                    return; // too short to tell the frame types apart
                }
                total = route[0].framing().totalLength(bytes, bytes.length);
            } catch (RuntimeException e) {
                // Malformed or oversized: answer at once, without reading the rest.
                answered[0] = true;
                RequestRoute answering = route[0] != null ? route[0] : routes.getFirst();
                socket.end(Buffer.buffer(answering.rejected().apply(e).encode()));
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
