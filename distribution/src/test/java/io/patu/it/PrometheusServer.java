package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.kernel.testing.TestNames;

/**
 * A real Prometheus server (Debian's {@code prometheus}) of the test's own: its configuration and storage in
 * a temporary directory, listening on loopback on a free port, scraping one target every second. Closing
 * it stops the server and removes the directory.
 */
final class PrometheusServer implements AutoCloseable {
    final Path dir;
    final int port;
    private final Process process;
    private final HttpClient client = HttpClient.newHttpClient();

    PrometheusServer(String target) throws Exception {
        dir = Files.createTempDirectory("pm-prometheus-" + TestNames.unique("", 6));
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: patu
                    static_configs:
                      - targets: ['%s']
                """.formatted(target));
        process = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn").redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            AgentUnderTest.await("Prometheus to be ready on port " + port, 60, () -> {
                try {
                    return get("/-/ready").statusCode() == 200;
                } catch (IOException e) {
                    return false;
                }
            });
            AgentUnderTest.await("Prometheus to scrape " + target, 30, () -> {
                JsonNode result = query("up{job=\"patu\"}");
                return result.size() == 1 && result.get(0).get("value").get(1).asText().equals("1");
            });
        } catch (Throwable e) {
            close();
            throw e;
        }
    }

    /** The result vector of an instant query (/api/v1/query); fails unless Prometheus says success. */
    JsonNode query(String promql) {
        try {
            HttpResponse<String> response = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
            JsonNode answer = AgentUnderTest.JSON.readTree(response.body());
            assertEquals("success", answer.path("status").asText(), "query " + promql + ": " + response.body());
            return answer.get("data").get("result");
        } catch (IOException e) {
            throw new AssertionError("query " + promql, e);
        }
    }

    private HttpResponse<String> get(String path) throws IOException {
        try {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("prometheus.log"));
    }

    @Override
    public void close() throws Exception {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            }
        } finally {
            client.close();
            AgentUnderTest.deleteTree(dir);
        }
    }
}
