package io.patu.datapath.sockmap.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SequencedMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/** {@code patu:stats}: what socket redirection did, per pod and in total. */
@Component(service = SockmapCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=stats"})
public final class SockmapCommands {
    private final SockmapDatapath datapath;

    @Activate
    public SockmapCommands(@Reference SockmapDatapath datapath) {
        this.datapath = datapath;
    }

    public String stats() {
        return table(datapath.podCounters(), datapath.counters());
    }

    /**
     * One row a pod address from pod_stats, then a total row from sockmap_stats; the counters that have
     * no per-pod column follow on one line. The total may exceed the pods' sum: it keeps counting for
     * pods already deleted.
     */
    static String table(List<SockmapDatapath.PodCounters> pods, SequencedMap<String, Long> totals) {
        List<List<String>> rows = new ArrayList<>();
        for (SockmapDatapath.PodCounters pod : pods) {
            rows.add(List.of(pod.address().getHostAddress(), pod.pod() == null ? "-" : pod.pod().toString(),
                    String.valueOf(pod.msgsRedirected()), String.valueOf(pod.bytesRedirected())));
        }
        rows.add(List.of("total", "", String.valueOf(totals.get("msgs_redirected")),
                String.valueOf(totals.get("bytes_redirected"))));
        StringBuilder out = new StringBuilder(new TextTable(
                List.of("ADDRESS", "POD", "MSGS_REDIRECTED", "BYTES_REDIRECTED"), rows).render()).append('\n');
        totals.forEach((name, value) -> {
            if (!name.endsWith("_redirected")) {
                out.append(name).append('=').append(value).append("  ");
            }
        });
        return out.toString().stripTrailing();
    }
}
