package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The metrics feature end to end: a real Prometheus scrapes the agent while pods talk and finds the bytes
 * the test just had redirected, per pod; the exposition passes {@code promtool check metrics}; every query
 * of the shipped Grafana dashboard names metrics that exist and runs in Prometheus; readiness follows the
 * profile's required features, the datapath's kernel objects and the CNI socket, over HTTP and through
 * {@code bin/patu status}.
 */
class MetricsIT extends WithAgent {
    private static final Pattern TYPE_LINE = Pattern.compile("(?m)^# TYPE (patu_[a-z0-9_]+) (counter|gauge|histogram)$");
    private static final Pattern METRIC_NAME = Pattern.compile("\\bpatu_[a-z0-9_]+");

    @Test
    void prometheusFindsTheRedirectedBytesOfEachPodAndTheDashboardQueriesRun() throws Exception {
        try (TestPod server = new TestPod(agent, "a"); TestPod client = new TestPod(agent, "b");
             PrometheusServer prometheus = new PrometheusServer("127.0.0.1:" + agent.metricsPort)) {
            // Labels in the exposition's order (sorted by name), so the same text selects in PromQL and in the exposition.
            String clientSeries = "patu_sockmap_pod_redirected_bytes_total{address=\"" + client.address.getHostAddress()
                    + "\",container=\"" + client.containerId + "\",interface=\"eth0\"}";
            AgentUnderTest.await("Prometheus to have the client pod's series", 30,
                    () -> prometheus.query(clientSeries).size() == 1);
            double before = value(prometheus.query(clientSeries));

            long[] kernelBefore = agent.sockmapCounters();
            long sent = PodTraffic.send(agent, server, client, 256L << 20, "128K");
            PodTraffic.assertCarriedByRedirection(kernelBefore, agent.sockmapCounters(), sent);

            // What the agent exposes now for the client pod: the bytes it just sent through redirection.
            String exposition = agent.http("/metrics").body();
            double exposed = sample(exposition, clientSeries);
            assertTrue(exposed - before >= sent / 2.0, "the client pod's redirected bytes grew by " + (exposed - before)
                    + " for " + sent + " sent");
            // Prometheus scraped that same figure, per pod.
            AgentUnderTest.await("Prometheus to scrape the client pod's " + (long) exposed + " redirected bytes", 30,
                    () -> value(prometheus.query(clientSeries)) >= exposed);
            JsonNode serverPod = prometheus.query("patu_sockmap_pod_redirected_bytes_total{container=\"" + server.containerId + "\"}");
            assertEquals(1, serverPod.size(), "the server pod has its own series");
            assertTrue(value(serverPod) < exposed, "the server pod sent less than the client (iperf3's replies only)");
            JsonNode node = prometheus.query("patu_sockmap_redirected_bytes_total");
            assertTrue(value(node) >= exposed, "node-wide redirected bytes include the client pod's");

            promtoolAccepts(exposition);
            dashboardQueriesNameExistingMetricsAndRun(exposition, prometheus);
            JsonNode adds = prometheus.query("patu_cni_calls_total{verb=\"ADD\",result=\"success\"}");
            assertEquals(2.0, value(adds), "two pods were added");
            assertEquals(2.0, value(prometheus.query("patu_pods")));
        }
    }

    @Test
    void readinessFollowsRequiredFeaturesKernelObjectsAndTheSocket() throws Exception {
        assertReady(true);
        assertEquals(200, agent.http("/livez").status());
        assertEquals(0, status().exitCode(), status().stdout());

        // A pin of the datapath removed behind its back: its objects are no longer all in place.
        Files.delete(agent.sockmapPins().resolve("local_pods"));
        String body = assertReady(false);
        assertTrue(body.contains("the pin of map local_pods"), body);

        // The full profile includes minimal, which requires sockmap: disabling it makes the node not ready.
        AgentUnderTest.assertExit(0, agent.shell("patu:disable sockmap"));
        body = assertReady(false);
        assertTrue(body.contains("required by the profile, but disabled: patu:enable sockmap"), body);
        AgentUnderTest.CniCall status = status();
        assertEquals(1, status.exitCode(), status.stdout());
        assertTrue(status.stdout().startsWith("ready: no"), status.stdout());
        assertTrue(status.stdout().contains("sockmap"), status.stdout());

        AgentUnderTest.assertExit(0, agent.shell("patu:enable sockmap"));
        assertReady(true);
        assertEquals(0, status().exitCode());

        // The CNI socket removed: the plugin can no longer reach the agent.
        Files.delete(agent.socket);
        body = assertReady(false);
        assertTrue(body.contains("the CNI socket " + agent.socket + " is gone"), body);
        assertEquals(2, status().exitCode(), "bin/patu status cannot reach the agent without its socket");
        // Restarting the lifecycle bundle (on the console, the socket is gone) serves the socket again.
        long lifecycle = agent.bundleId("io.patu.lifecycle");
        agent.gogo("stop " + lifecycle);
        agent.gogo("start " + lifecycle);
        AgentUnderTest.await("the socket to be served again", 30, () -> Files.exists(agent.socket));
        assertReady(true);
        assertEquals(0, status().exitCode());
    }

    @Test
    void statusWorksInTheMinimalProfileWithoutTheMetricsBundle() throws Exception {
        agent.close();
        agent = new AgentUnderTest("minimal", null);
        AgentUnderTest.CniCall ready = status();
        assertEquals(0, ready.exitCode(), ready.stdout());
        assertTrue(ready.stdout().startsWith("ready: yes"), ready.stdout());
        assertFalse(ready.stdout().contains("metrics"), "minimal has no metrics bundle: " + ready.stdout());
        assertThrowsConnect();
        AgentUnderTest.assertExit(0, agent.shell("patu:disable sockmap"));
        AgentUnderTest.CniCall notReady = status();
        assertEquals(1, notReady.exitCode(), notReady.stdout());
        assertTrue(notReady.stdout().contains("required by the profile, but disabled"), notReady.stdout());
        AgentUnderTest.assertExit(0, agent.shell("patu:enable sockmap"));
        AgentUnderTest.await("ready again", 30, () -> status().exitCode() == 0);
    }

    private void assertThrowsConnect() {
        try {
            agent.http("/livez");
            throw new AssertionError("something answers on the metrics port of a minimal agent");
        } catch (IOException | InterruptedException expected) {
            // nothing listens: the bundle is not installed
        }
    }

    /** Waits until /readyz says {@code ready}; returns its body. */
    private String assertReady(boolean ready) throws Exception {
        String[] body = {""};
        AgentUnderTest.await("/readyz to say ready=" + ready, 30, () -> {
            try {
                AgentUnderTest.HttpAnswer answer = agent.http("/readyz");
                body[0] = answer.body();
                return answer.status() == (ready ? 200 : 503)
                        && AgentUnderTest.JSON.readTree(answer.body()).get("ready").asBoolean() == ready;
            } catch (IOException | InterruptedException e) {
                return false;
            }
        });
        return body[0];
    }

    private AgentUnderTest.CniCall status() {
        try {
            Process process = new ProcessBuilder(AgentUnderTest.DIST.resolve("bin/patu").toString(), "status", "--config",
                    agent.work.resolve("patu.json").toString()).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(process.waitFor(60, TimeUnit.SECONDS));
            return new AgentUnderTest.CniCall(process.exitValue(), out);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void promtoolAccepts(String exposition) throws Exception {
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = promtool.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, promtool.exitValue(), "promtool check metrics:\n" + out);
        assertEquals("", out.strip(), "promtool has no lint remark");
    }

    /**
     * Every expression of the dashboard names only metrics the agent exposes (a histogram through its
     * _bucket, _sum or _count series) and runs in Prometheus, with Grafana's variables filled in.
     */
    private static void dashboardQueriesNameExistingMetricsAndRun(String exposition, PrometheusServer prometheus) throws Exception {
        Set<String> exposed = new TreeSet<>();
        Set<String> histograms = new TreeSet<>();
        Matcher type = TYPE_LINE.matcher(exposition);
        while (type.find()) {
            exposed.add(type.group(1));
            if (type.group(2).equals("histogram")) {
                histograms.add(type.group(1));
            }
        }
        Path dashboard = AgentUnderTest.DIST.resolve("dashboards/patu-grafana.json");
        List<String> exprs = new ArrayList<>();
        collectExprs(AgentUnderTest.JSON.readTree(dashboard.toFile()), exprs);
        assertTrue(exprs.size() >= 6, "the dashboard has its panels' queries: " + exprs);
        for (String expr : exprs) {
            Matcher name = METRIC_NAME.matcher(expr);
            while (name.find()) {
                String metric = name.group();
                String base = metric.replaceFirst("_(bucket|sum|count)$", "");
                assertTrue(exposed.contains(metric) || histograms.contains(base),
                        "dashboard query " + expr + " names " + metric + ", which the agent does not expose");
            }
            String runnable = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
                    .replace("$instance", ".*").replace("$job", ".*");
            prometheus.query(runnable);
        }
    }

    private static void collectExprs(JsonNode node, List<String> exprs) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if (e.getKey().equals("expr") && e.getValue().isTextual()) {
                    exprs.add(e.getValue().asText());
                } else {
                    collectExprs(e.getValue(), exprs);
                }
            });
        } else if (node.isArray()) {
            node.forEach(child -> collectExprs(child, exprs));
        }
    }

    /** The value of one series in an exposition, given as name{labels} in the exposition's label order. */
    private static double sample(String exposition, String series) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("no series " + series + " in:\n" + exposition);
    }

    private static double value(JsonNode result) {
        assertEquals(1, result.size(), "one series: " + result);
        return Double.parseDouble(result.get(0).get("value").get(1).asText());
    }
}
