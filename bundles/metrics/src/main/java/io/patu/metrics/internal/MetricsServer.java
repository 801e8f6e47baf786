package io.patu.metrics.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.patu.api.HealthCheck;
import io.patu.api.Readiness;
import io.patu.api.ReadinessReport;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricsSource;

/**
 * One HTTP listener for monitoring: {@code /metrics} (Prometheus text format: every {@link MetricsSource}),
 * {@code /livez} (the agent answers) and {@code /readyz} (the lifecycle bundle's {@link Readiness}: 200 when
 * ready, 503 with the same JSON otherwise).
 *
 * <p>Served by the JDK's own {@code com.sun.net.httpserver} (module jdk.httpserver): it is in every JDK, so
 * it costs no jar, and with no executor it runs every exchange on its one dispatcher thread, which suits
 * a scrape every few seconds. Vert.x, which the lifecycle bundle embeds privately for the agent socket,
 * would have to be wrapped into a shared bundle with its HTTP codecs (several MiB of classes and buffers);
 * Felix exports the package from the system bundle ({@code org.osgi.framework.system.packages.extra} in
 * conf/config.properties).
 *
 * <p>Registered as the {@code metrics} feature's {@link HealthCheck}: it exists only while the listener
 * is bound, so readiness reports the feature unhealthy when the listener could not start.
 */
@Component(service = HealthCheck.class, immediate = true, configurationPid = MetricsServer.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = HealthCheck.NAME + "=metrics")
@Designate(ocd = MetricsServer.Config.class)
public final class MetricsServer implements HealthCheck {
    public static final String PID = "io.patu.metrics";
    private static final Logger LOG = Logger.getLogger(MetricsServer.class.getName());
    private static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

    @ObjectClassDefinition(name = "Patu metrics", description = "Prometheus metrics, liveness and readiness over HTTP")
    public @interface Config {
        @AttributeDefinition(description = "address to listen on; 127.0.0.1 (the default) serves only this host, "
                + "0.0.0.0 or :: every interface (for a Prometheus elsewhere)")
        String listenAddress() default "127.0.0.1";

        @AttributeDefinition(description = "TCP port; 0 picks a free one (logged)")
        int port() default 9476;
    }

    private final List<Scrape.Named> sources = new CopyOnWriteArrayList<>();
    private final Scrape scrape = new Scrape();
    private final HttpServer server;
    /** Nanoseconds all scrapes took to collect and render, and their number; dispatcher thread only. */
    private long scrapeNanos;
    private long scrapes;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Readiness readiness;

    @Activate
    public MetricsServer(Config config) throws IOException {
        // The JDK server writes a response's headers and its body in two writes: with Nagle's algorithm on, the
        // body waits for the client's delayed ACK of the headers, 40 ms on Linux, on every scrape of a kept-alive
        // connection (bench/scrape-cost.sh: 48 ms a scrape instead of 5). Its own switch sets TCP_NODELAY; it is
        // read once, when the first server is made. An operator's -D setting wins.
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true");
        }
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(config.listenAddress()), config.port());
        try {
            server = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + address + " for metrics (" + e.getMessage()
                    + "); set another port or listenAddress in " + PID, e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(null);
        server.start();
        LOG.info(() -> "metrics on http://" + hostPort() + "/metrics, health on /livez and /readyz");
    }

    @Deactivate
    void deactivate() {
        server.stop(0);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSource(MetricsSource source, Map<String, Object> properties) {
        Object name = properties.get(MetricsSource.NAME);
        sources.add(new Scrape.Named(name == null ? source.getClass().getName() : name.toString(), source));
    }

    void removeSource(MetricsSource source) {
        sources.removeIf(named -> named.source() == source);
    }

    /** Bound, or this component would not exist. */
    @Override
    public List<String> problems() {
        return List.of();
    }

    /** host:port as bound (the port 0 asked for becomes a real one). */
    String hostPort() {
        InetSocketAddress bound = server.getAddress();
        String host = bound.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/metrics" -> respond(exchange, 200, Exposition.CONTENT_TYPE, metrics().getBytes(StandardCharsets.UTF_8));
                case "/livez" -> respond(exchange, 200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8));
                case "/readyz" -> {
                    ReadinessReport report = readinessReport();
                    respond(exchange, report.ready() ? 200 : 503, "application/json", ReadinessJson.write(report));
                }
                default -> respond(exchange, 404, "text/plain; charset=utf-8",
                        "not found: this agent serves /metrics, /livez and /readyz\n".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * One scrape: every source, merged, then the scrape's own figures. Prometheus records each scrape's wall
     * time itself (scrape_duration_seconds); the agent's share is the time to collect and render, summed.
     */
    String metrics() {
        long started = System.nanoTime();
        List<Scrape.Named> named = new ArrayList<>(sources);
        named.sort(Comparator.comparing(Scrape.Named::name));
        List<MetricFamily> families = new ArrayList<>(scrape.collect(named));
        families.add(MetricFamily.counter("patu_metrics_scrapes_total", "Scrapes of /metrics this agent answered",
                ++scrapes));
        families.add(MetricFamily.counter("patu_metrics_scrape_seconds_total",
                "Time the agent spent collecting and rendering scrapes before this one, in seconds", scrapeNanos / 1e9));
        String text = Exposition.render(families);
        scrapeNanos += System.nanoTime() - started;
        return text;
    }

    ReadinessReport readinessReport() {
        Readiness current = readiness;
        if (current == null) {
            return new ReadinessReport(List.of(new ReadinessReport.Entry("lifecycle", false, "stopped", true,
                    List.of("the lifecycle bundle is not running: no CNI service, and nothing to judge readiness by"))));
        }
        return current.check();
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
