package io.patu.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.patu.api.ReadinessReport;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricsSource;

/** The listener over real HTTP on loopback: paths, status codes, content types. */
class MetricsServerTest {
    private MetricsServer server;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        server = new MetricsServer(new MetricsServer.Config() {
            @Override
            public String listenAddress() {
                return "127.0.0.1";
            }

            @Override
            public int port() {
                return 0;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return MetricsServer.Config.class;
            }
        });
    }

    @AfterEach
    void stop() {
        server.deactivate();
        client.close();
    }

    private HttpResponse<String> get(String path, String method) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsOfEverySourceInTheTextFormat() throws Exception {
        MetricsSource source = () -> List.of(MetricFamily.gauge("patu_pods", "Pods", 7));
        server.addSource(source, Map.of(MetricsSource.NAME, "test"));
        HttpResponse<String> response = get("/metrics", "GET");
        assertEquals(200, response.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", response.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(response.body().contains("# TYPE patu_pods gauge\npatu_pods 7\n"), response.body());
        assertTrue(response.body().contains("patu_metrics_scrapes_total 1\n"), response.body());
        server.removeSource(source);
        assertTrue(!get("/metrics", "GET").body().contains("patu_pods"), "a source that went away is not asked");
    }

    @Test
    void livenessReadinessAndWhatIsNotServed() throws Exception {
        assertEquals(200, get("/livez", "GET").statusCode());
        HttpResponse<String> notReady = get("/readyz", "GET");
        assertEquals(503, notReady.statusCode(), "no lifecycle bundle, nothing is served: not ready");
        assertTrue(notReady.body().contains("\"ready\" : false"), notReady.body());
        assertTrue(notReady.body().contains("the lifecycle bundle is not running"), notReady.body());
        assertEquals(List.of(), server.problems());
        assertEquals(404, get("/nothing", "GET").statusCode());
        assertEquals(405, get("/metrics", "POST").statusCode());
        assertEquals(200, get("/metrics", "HEAD").statusCode());
    }

    @Test
    void readinessJsonSaysWhatIsWrong() {
        String json = new String(ReadinessJson.write(new ReadinessReport(List.of(
                new ReadinessReport.Entry("lifecycle", false, "active", true, List.of()),
                new ReadinessReport.Entry("sockmap", true, "disabled", true, List.of("required, but disabled"))))));
        assertTrue(json.contains("\"ready\" : false"), json);
        assertTrue(json.contains("\"name\" : \"sockmap\""), json);
        assertTrue(json.contains("\"problems\" : [ \"required, but disabled\" ]"), json);
    }
}
