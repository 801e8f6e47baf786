package io.patu.lifecycle.internal;

import java.util.List;
import java.util.stream.Collectors;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.TextTable;

/** What {@code patu:status} and {@code patu:pods} print, from plain values so it is testable alone. */
final class LifecycleTables {
    private LifecycleTables() {
    }

    /**
     * The agent at a glance.
     *
     * @param features null when the feature manager is not running (its features file is unreadable)
     */
    record AgentStatus(String version, String socketPath, String stateDir, int pods, boolean ipam, boolean shell,
                       List<FeatureManager.Feature> features) {
    }

    static String status(AgentStatus status) {
        StringBuilder out = new StringBuilder();
        out.append(new TextTable(List.of("AGENT", status.version()), List.of(
                List.of("socket", status.socketPath()),
                List.of("state dir", status.stateDir()),
                List.of("pods", String.valueOf(status.pods())),
                List.of("ipam", status.ipam() ? "present" : "absent: ADD fails until it runs (patu:enable ipam)"),
                List.of("remote shell", status.shell() ? "present" : "absent: no Gogo runtime")))
                .render());
        out.append('\n');
        if (status.features() == null) {
            out.append("features: unknown, the feature manager is not running; see the agent log (features file)");
        } else if (status.features().isEmpty()) {
            out.append("features: none installed");
        } else {
            out.append(FeatureManager.table(status.features()).render());
        }
        return out.toString().stripTrailing();
    }

    static String pods(List<Pod> pods) {
        if (pods.isEmpty()) {
            return "no pods";
        }
        return new TextTable(List.of("CONTAINER", "IFNAME", "POD", "NETNS", "HOST VETH", "ADDRESSES"), pods.stream()
                .map(pod -> List.of(pod.id().containerId(), pod.id().ifName(),
                        // CNI_ARGS' namespace/name, which policy matches metadata by; "-" when the runtime sent none.
                        pod.identity().named() ? pod.identity().effectiveNamespace() + "/" + pod.identity().name() : "-",
                        pod.netns(), pod.hostVeth(),
                        pod.addresses().stream().map(PodAddress::cidr).collect(Collectors.joining(","))))
                .toList()).render().stripTrailing();
    }
}
