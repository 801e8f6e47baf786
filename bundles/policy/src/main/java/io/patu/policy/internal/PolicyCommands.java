package io.patu.policy.internal;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.function.IntFunction;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/**
 * {@code patu:policystats}: what the policy programs did for each pod, one row a pod (its host veth): packets
 * allowed and denied in each direction, verdicts computed, sockets destroyed by a policy change; then the
 * generation in force and how long its change took. Registered while the policy datapath is up.
 */
@Component(service = PolicyCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=policystats"})
public final class PolicyCommands {
    static final String HELP = """
            patu:policystats [POD]   per-pod policy counters (POD: namespace/name, name, address or host veth)
              POD                namespace/name of the pod (default/<container id> when its runtime gave no name)
              INGRESS_ALLOWED    packets to the pod that policy let through at its veth
              INGRESS_DENIED     packets to the pod dropped because of the pod's own ingress rules
              EGRESS_ALLOWED     packets from the pod that policy let through at its veth
              EGRESS_DENIED      packets from the pod dropped because of the pod's own egress rules
              FLOWS_DECIDED      verdicts computed at the pod's veth: new flows, and flows a policy change made stale
              SOCKETS_DESTROYED  connections of the pod ended because a policy change denies them
            Counts are packets (a client retrying a dropped TCP SYN counts once a try). A denial counts at the pod
            whose rules denied, wherever it was dropped: a connection refused by the destination's ingress rules
            in the destination's INGRESS_DENIED. Allowed packets count at the veth they cross: a packet between
            two local pods is decided at the sender's veth and counts there; it counts at the receiver's only if
            it goes through the bridge (not when the packet datapath delivers it straight into the pod), and
            socket-redirected messages cross no veth (patu:stats counts them). Traffic between a pod and its node
            counts as allowed. Counters survive agent restarts; they go with the pod, and with the policy feature.""";


    private final PolicyDatapath datapath;
    private final PolicyAgent agent;

    @Activate
    public PolicyCommands(@Reference PolicyDatapath datapath, @Reference PolicyAgent agent) {
        this.datapath = datapath;
        this.agent = agent;
    }

    public String policystats() {
        return render(rows(), datapath.status());
    }

    public String policystats(String pod) {
        if (pod.equals("help") || pod.equals("-h") || pod.equals("--help")) {
            return HELP;
        }
        List<Row> matching = rows().stream().filter(r -> r.matches(pod)).toList();
        if (matching.isEmpty()) {
            return "no pod '" + pod + "' among the pods policy counts for (patu:policystats lists them; 'help' explains)";
        }
        return render(matching, datapath.status());
    }

    /** One pod's counters with what an operator knows it by. */
    record Row(String pod, List<InetAddress> addresses, String hostVeth, PolicyDatapath.PodCounters counters) {
        boolean matches(String text) {
            return pod.equals(text) || pod.endsWith("/" + text) || hostVeth.equals(text)
                    || addresses.stream().anyMatch(a -> a.getHostAddress().equals(text));
        }
    }

    private List<Row> rows() {
        return rows(datapath.counters(), agent::localPod, PolicyCommands::interfaceName);
    }

    static List<Row> rows(List<PolicyDatapath.PodCounters> counters, IntFunction<Optional<LocalPod>> pods,
                          IntFunction<String> interfaceNames) {
        List<Row> rows = new ArrayList<>();
        for (PolicyDatapath.PodCounters c : counters) {
            Optional<LocalPod> pod = pods.apply(c.hostIfIndex());
            rows.add(new Row(pod.map(LocalPod::displayName).orElse("-"), pod.map(LocalPod::addresses).orElse(List.of()),
                    interfaceNames.apply(c.hostIfIndex()), c));
        }
        return rows;
    }

    static String render(List<Row> rows, SequencedMap<String, Long> status) {
        StringBuilder out = new StringBuilder();
        if (rows.isEmpty()) {
            out.append("no pods\n");
        } else {
            List<List<String>> cells = new ArrayList<>();
            for (Row row : rows) {
                PolicyDatapath.PodCounters c = row.counters();
                cells.add(List.of(row.pod(), row.addresses().isEmpty() ? "-" : String.join(",",
                                row.addresses().stream().map(InetAddress::getHostAddress).toList()), row.hostVeth(),
                        Long.toString(c.ingressAllowed()), Long.toString(c.ingressDenied()), Long.toString(c.egressAllowed()),
                        Long.toString(c.egressDenied()), Long.toString(c.flowsDecided()), Long.toString(c.socketsDestroyed())));
            }
            out.append(new TextTable(List.of("POD", "ADDRESS", "HOST_VETH", "INGRESS_ALLOWED", "INGRESS_DENIED",
                    "EGRESS_ALLOWED", "EGRESS_DENIED", "FLOWS_DECIDED", "SOCKETS_DESTROYED"), cells).render());
        }
        out.append("generation ").append(status.get("generation")).append(" in force: last change took ")
                .append(status.get("last_apply_us")).append(" us (maps written and switched after ")
                .append(status.get("last_write_us")).append(" us, sockets revalidated in ")
                .append(status.get("last_revalidate_us")).append(" us); ").append(status.get("hooked_veths"))
                .append(" pod veths hooked");
        return out.toString();
    }

    private static String interfaceName(int ifindex) {
        try {
            NetworkInterface nic = NetworkInterface.getByIndex(ifindex);
            return nic == null ? "#" + ifindex : nic.getName();
        } catch (SocketException e) {
            return "#" + ifindex;
        }
    }
}
