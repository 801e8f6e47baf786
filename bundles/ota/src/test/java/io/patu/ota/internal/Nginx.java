package io.patu.ota.internal;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian nginx-light) serving one directory on a loopback port of its own, with a prefix,
 * configuration, pid file and logs under a temporary directory: nothing of a system nginx is touched.
 * Missing nginx skips the test, except on CI (CI=true), where it fails.
 */
final class Nginx implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/nginx");
    final int port;
    private final Path prefix;
    private final Process process;

    Nginx(Path root, Path prefix) throws Exception {
        if (!Files.isExecutable(BINARY)) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("nginx is needed on CI (apt-get install nginx-light; ./patu-dev installs it)");
            }
            assumeTrue(false, "nginx is not installed (apt-get install nginx-light)");
        }
        this.prefix = prefix;
        Files.createDirectories(prefix.resolve("logs"));
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path conf = prefix.resolve("nginx.conf");
        Files.writeString(conf, """
                daemon off;
                master_process off;
                pid %1$s/nginx.pid;
                error_log %1$s/logs/error.log;
                events { worker_connections 64; }
                http {
                    access_log %1$s/logs/access.log;
                    client_body_temp_path %1$s/tmp;
                    proxy_temp_path %1$s/tmp;
                    fastcgi_temp_path %1$s/tmp;
                    uwsgi_temp_path %1$s/tmp;
                    scgi_temp_path %1$s/tmp;
                    server {
                        listen 127.0.0.1:%2$d;
                        root %3$s;
                    }
                }
                """.formatted(prefix, port, root));
        process = new ProcessBuilder(BINARY.toString(), "-p", prefix.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("logs/stdout").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                break;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    fail("nginx did not start: " + Files.readString(prefix.resolve("logs/stdout"))
                            + (Files.exists(prefix.resolve("logs/error.log")) ? Files.readString(prefix.resolve("logs/error.log")) : ""));
                }
                Thread.sleep(20);
            }
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + "/" + path;
    }

    /** The requests nginx logged: status and Range header checks read it. */
    String accessLog() throws IOException {
        return Files.readString(prefix.resolve("logs/access.log"));
    }

    @Override
    public void close() throws InterruptedException, IOException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        try (var paths = Files.walk(prefix)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
