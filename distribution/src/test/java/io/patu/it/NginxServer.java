package io.patu.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian nginx-light) serving one directory on a loopback port of its own, optionally at a
 * limited rate (a slow link), with prefix, configuration and logs in a directory of the test's: a system
 * nginx is never touched. Closing it stops the process.
 */
final class NginxServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/nginx");
    private final int port;
    private final Process process;

    NginxServer(Path root, Path prefix, String limitRate) throws Exception {
        if (!Files.isExecutable(BINARY)) {
            fail("nginx is needed (apt-get install nginx-light; ./patu-dev installs it)");
        }
        Files.createDirectories(root);
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
                        limit_rate %4$s;
                    }
                }
                """.formatted(prefix, port, root, limitRate));
        process = new ProcessBuilder(BINARY.toString(), "-p", prefix.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("logs/stdout").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    fail("nginx did not start: " + Files.readString(prefix.resolve("logs/stdout")));
                }
                Thread.sleep(20);
            }
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + "/" + path;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
