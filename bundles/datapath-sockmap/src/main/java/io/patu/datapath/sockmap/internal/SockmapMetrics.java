package io.patu.datapath.sockmap.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SequencedMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

/**
 * Socket redirection's counters: node-wide from sockmap_stats (one lookup), per pod address from pod_stats
 * (one batched pass over the map). A pod address no pod owns any more (counters kept across an agent
 * restart until the pod is seen again) has empty container and interface labels.
 */
@Component(service = MetricsSource.class, property = MetricsSource.NAME + "=" + SockmapDatapath.FEATURE)
public final class SockmapMetrics implements MetricsSource {
    private final SockmapDatapath datapath;

    @Activate
    public SockmapMetrics(@Reference SockmapDatapath datapath) {
        this.datapath = datapath;
    }

    @Override
    public List<MetricFamily> collect() {
        return families(datapath.counters(), datapath.podCounters());
    }

    static List<MetricFamily> families(SequencedMap<String, Long> totals, List<SockmapDatapath.PodCounters> pods) {
        List<Sample> podBytes = new ArrayList<>();
        List<Sample> podMessages = new ArrayList<>();
        for (SockmapDatapath.PodCounters pod : pods) {
            Labels labels = Labels.of("container", pod.pod() == null ? "" : pod.pod().containerId(),
                    "interface", pod.pod() == null ? "" : pod.pod().ifName(), "address", text(pod.address()));
            podBytes.add(new Sample.Value(labels, pod.bytesRedirected()));
            podMessages.add(new Sample.Value(labels, pod.msgsRedirected()));
        }
        List<Sample> switches = List.of(
                new Sample.Value(Labels.of("to", "plain", "reason", "small_writes"), totals.get("to_plain_small")),
                new Sample.Value(Labels.of("to", "plain", "reason", "no_peer"), totals.get("to_plain_no_peer")),
                new Sample.Value(Labels.of("to", "plain", "reason", "backpressure"), totals.get("to_plain_full")),
                new Sample.Value(Labels.of("to", "redirect", "reason", "caught_up"), totals.get("back_to_redirect")));
        return List.of(
                MetricFamily.counter("patu_sockmap_redirected_bytes_total",
                        "Payload bytes sk_msg redirected straight into a local peer socket, all pods", totals.get("bytes_redirected")),
                MetricFamily.counter("patu_sockmap_redirected_messages_total",
                        "Messages (sendmsg calls) sk_msg redirected, all pods", totals.get("msgs_redirected")),
                MetricFamily.counter("patu_sockmap_plain_bytes_total",
                        "Payload bytes of sockets in the sockhash that sk_msg sent on the plain TCP path", totals.get("bytes_passed")),
                MetricFamily.counter("patu_sockmap_plain_messages_total",
                        "Messages of sockets in the sockhash that sk_msg sent on the plain TCP path", totals.get("msgs_passed")),
                new MetricFamily("patu_sockmap_pod_redirected_bytes_total", MetricType.COUNTER,
                        "Payload bytes a pod address sent through a socket redirect", podBytes),
                new MetricFamily("patu_sockmap_pod_redirected_messages_total", MetricType.COUNTER,
                        "Messages a pod address sent through a socket redirect", podMessages),
                new MetricFamily("patu_sockmap_path_switches_total", MetricType.COUNTER,
                        "Directions of connections that switched path: to plain TCP (small-write stream, peer not yet in"
                                + " the sockhash, reader behind) or back to redirection (reader caught up)", switches),
                MetricFamily.counter("patu_sockmap_sockets_added_total", "Sockets the sockops program put into the sockhash",
                        totals.get("sockets_added")),
                MetricFamily.counter("patu_sockmap_socket_add_failures_total",
                        "Sockets that could not be put into the sockhash (map full)", totals.get("sockets_add_failed")),
                MetricFamily.counter("patu_sockmap_sockets_left_total",
                        "Sockets of small-write streams that left the sockhash for plain TCP for good", totals.get("sockets_left")),
                MetricFamily.counter("patu_sockmap_connections_untracked_total",
                        "Connections redirected without per-connection state (conn_state map full)", totals.get("conns_untracked")));
    }

    /** An address as people and the CNI result write it: IPv6 with its longest run of zero groups as "::" (RFC 5952). */
    static String text(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        String[] groups = address.getHostAddress().split(":");
        int bestStart = -1;
        int bestLength = 1; // a single zero group stays "0"
        for (int i = 0; i < groups.length; ) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(j, i + 1);
        }
        if (bestStart < 0) {
            return String.join(":", groups);
        }
        return String.join(":", Arrays.copyOfRange(groups, 0, bestStart)) + "::"
                + String.join(":", Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
    }
}
