package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

/**
 * The agent's root-only Unix socket, served by Vert.x: each connection carries one request, read until
 * its framing says it is complete, handed to a single worker thread, answered, closed. The event loop never
 * blocks; the worker is where kernel changes happen, one at a time.
 */
final class AgentSocketServer implements AutoCloseable {
    private static final int IDLE_TIMEOUT_SECONDS = 30;

    private final Path socketPath;
    private final Function<byte[], WireResponse> handler;
    private final ExecutorService worker;
    private final Function<RuntimeException, WireResponse> rejected;
    private Vertx vertx;
    private NetServer server;

    AgentSocketServer(Path socketPath, Function<byte[], WireResponse> handler, ExecutorService worker,
                      Function<RuntimeException, WireResponse> rejected) {
        this.socketPath = socketPath;
        this.handler = handler;
        this.worker = worker;
        this.rejected = rejected;
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
        boolean[] answered = {false};
        socket.handler(chunk -> {
            if (answered[0]) {
                return;
            }
            request.appendBuffer(chunk);
            byte[] bytes = request.getBytes();
            int total;
            try {
                total = WireRequest.totalLength(bytes, bytes.length);
            } catch (RuntimeException e) {
                // Malformed or oversized: answer at once, without reading the rest.
                answered[0] = true;
                socket.end(Buffer.buffer(rejected.apply(e).encode()));
                return;
            }
            if (total != WireRequest.INCOMPLETE && bytes.length >= total) {
                answered[0] = true;
                byte[] complete = bytes.length == total ? bytes : Arrays.copyOf(bytes, total);
                worker.execute(() -> socket.end(Buffer.buffer(handler.apply(complete).encode())));
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
