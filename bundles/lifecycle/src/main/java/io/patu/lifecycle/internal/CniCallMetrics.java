package io.patu.lifecycle.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.IntSupplier;

import com.fasterxml.jackson.databind.JsonNode;

import io.patu.api.json.JsonTrees;
import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.Sample;

/**
 * CNI calls as the runtime sees them, counted around the handler of the agent socket's CNI route: the verb
 * from the request's {@code CNI_COMMAND}, the result from the answer (its exit status, and the error code of
 * a failure), and the time the agent took to answer. Calls that are not even a readable request count under
 * the verb {@code unknown}.
 *
 * <p>Recorded on the CNI worker, read by scrapes: one lock keeps a histogram's buckets, sum and count from
 * one moment (a scrape must never see a count below its buckets).
 */
final class CniCallMetrics {
    static final String UNKNOWN_VERB = "unknown";
    /** Seconds; ADD and DEL take 10-60 ms on a small device, GC of many pods seconds. */
    static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final Map<String, Verb> verbs = new TreeMap<>();
    /** Failed calls by verb, then by CNI error code. */
    private final Map<String, Map<Integer, Long>> errors = new TreeMap<>();
    private volatile int pods;

    private static final class Verb {
        long successes;
        long failures;
        final long[] buckets = new long[BUCKETS.length];
        long count;
        long nanos;
    }

    /**
     * Answers {@code request} with {@code handler}, records the call, and then the pod count, which only CNI
     * calls change (read on the CNI worker, the registry's thread).
     */
    WireResponse observe(byte[] request, Function<byte[], WireResponse> handler, IntSupplier podCount) {
        long started = System.nanoTime();
        WireResponse response = handler.apply(request);
        record(verbOf(request), response, System.nanoTime() - started);
        pods(podCount.getAsInt());
        return response;
    }

    synchronized void record(String verb, WireResponse response, long nanos) {
        Verb v = verbs.computeIfAbsent(verb, k -> new Verb());
        if (response.exitStatus() == 0) {
            v.successes++;
        } else {
            v.failures++;
            errors.computeIfAbsent(verb, k -> new TreeMap<>()).merge(errorCode(response), 1L, Long::sum);
        }
        double seconds = nanos / 1e9;
        for (int i = 0; i < BUCKETS.length; i++) {
            if (seconds <= BUCKETS[i]) {
                v.buckets[i]++;
            }
        }
        v.count++;
        v.nanos += nanos;
    }

    /** The pods the registry holds, set on the CNI worker after every call. */
    void pods(int count) {
        pods = count;
    }

    synchronized List<MetricFamily> families() {
        List<Sample> calls = new ArrayList<>();
        List<Sample> durations = new ArrayList<>();
        verbs.forEach((verb, v) -> {
            calls.add(new Sample.Value(Labels.of("verb", verb, "result", "success"), v.successes));
            calls.add(new Sample.Value(Labels.of("verb", verb, "result", "error"), v.failures));
            durations.add(new Sample.Histogram(Labels.of("verb", verb), BUCKETS, v.buckets, v.nanos / 1e9, v.count));
        });
        List<Sample> failures = new ArrayList<>();
        errors.forEach((verb, codes) -> codes.forEach((code, count) ->
                failures.add(new Sample.Value(Labels.of("verb", verb, "code", code.toString()), count))));
        return List.of(
                new MetricFamily("patu_cni_calls_total", MetricType.COUNTER,
                        "CNI calls the agent answered, by verb and result (success or error)", calls),
                new MetricFamily("patu_cni_errors_total", MetricType.COUNTER,
                        "CNI calls that failed, by verb and CNI error code", failures),
                new MetricFamily("patu_cni_call_duration_seconds", MetricType.HISTOGRAM,
                        "Time the agent took to answer a CNI call, by verb, in seconds", durations),
                MetricFamily.gauge("patu_pods", "Pods (CNI attachments) the agent has networked", pods));
    }

    /** The request's verb, if it is one the agent knows; {@value #UNKNOWN_VERB} otherwise. */
    static String verbOf(byte[] request) {
        try {
            String verb = WireRequest.decode(request).environment().get("CNI_COMMAND");
            for (CniCommand command : CniCommand.values()) {
                if (command.name().equals(verb)) {
                    return verb;
                }
            }
        } catch (RuntimeException e) {
            // Not a readable request: its answer is an error, counted under "unknown".
        }
        return UNKNOWN_VERB;
    }

    /** The CNI error code of a failed call's answer; 0 when it has none that can be read. */
    static int errorCode(WireResponse response) {
        try {
            JsonNode error = JsonTrees.read(response.stdout());
            return error == null ? 0 : error.path("code").asInt(0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
