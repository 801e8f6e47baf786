package io.patu.policy.internal;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

import io.patu.api.TextTable;

/** What {@code patu:policies} and {@code patu:verdict} print, from plain values so it is testable alone. */
final class PolicyTables {
    private PolicyTables() {
    }

    static String policies(Path directory, PolicyInputs inputs, List<Problem> problems, long generation) {
        StringBuilder out = new StringBuilder();
        out.append("policy directory ").append(directory).append(": ").append(inputs.policies().size())
                .append(" policies, generation ").append(generation).append('\n');
        if (!inputs.policies().isEmpty()) {
            List<List<String>> rows = new ArrayList<>();
            for (NetworkPolicy policy : inputs.policies().stream().sorted(Comparator.comparing(NetworkPolicy::qualifiedName)).toList()) {
                List<String> selected = PolicyEngine.selected(inputs, policy).stream().map(LocalPod::displayName).sorted().toList();
                rows.add(List.of(policy.namespace(), policy.name(), policy.types(), policy.podSelector().toString(),
                        String.valueOf(policy.ingress().size()), String.valueOf(policy.egress().size()),
                        selected.isEmpty() ? "-" : String.join(" ", selected), policy.file()));
            }
            out.append(new TextTable(List.of("NAMESPACE", "NAME", "TYPES", "POD SELECTOR", "INGRESS RULES",
                    "EGRESS RULES", "SELECTS (LOCAL PODS)", "FILE"), rows).render().stripTrailing()).append('\n');
        }
        if (problems.isEmpty()) {
            out.append("no errors");
        } else {
            out.append(problems.size()).append(problems.size() == 1 ? " error:" : " errors:");
            problems.forEach(p -> out.append("\n  ").append(p));
        }
        return out.toString();
    }

    /** SRC and DST: an address, {@code namespace/name}, or a pod name (or container id) unique on the node. */
    static String verdict(PolicyInputs inputs, String source, String destination, String portText,
                          Predicate<InetAddress> isNodeAddress) {
        InetAddress from;
        InetAddress to;
        int port;
        int protocol;
        try {
            from = address(inputs, source, null);
            to = address(inputs, destination, from);
            int slash = portText.indexOf('/');
            String number = slash < 0 ? portText : portText.substring(0, slash);
            protocol = slash < 0 ? PolicyPort.TCP : PolicyPort.protocolNumber(portText.substring(slash + 1).toUpperCase(Locale.ROOT));
            if (protocol < 0) {
                throw new IllegalArgumentException("unknown protocol in '" + portText + "' (TCP, UDP or SCTP)");
            }
            try {
                port = Integer.parseInt(number);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + number + "' is not a port number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is not in 1..65535");
            }
        } catch (IllegalArgumentException e) {
            return "usage: patu:verdict SRC DST PORT[/TCP|UDP|SCTP] (SRC, DST: address, namespace/name or pod name): "
                    + e.getMessage();
        }
        String head = from.getHostAddress() + " -> " + to.getHostAddress() + " " + port + "/" + PolicyPort.protocolName(protocol) + ": ";
        if (isNodeAddress.test(from) || isNodeAddress.test(to)) {
            return head + "allow\n  traffic between a pod and its own node is always allowed (" + (isNodeAddress.test(from)
                    ? from.getHostAddress() : to.getHostAddress()) + " is an address of this node)";
        }
        return head + PolicyEngine.explain(inputs, from, to, protocol, port).describe();
    }

    /** The address of a pod, by name; for a pod with several, the one of the family of {@code sameFamilyAs}. */
    private static InetAddress address(PolicyInputs inputs, String text, InetAddress sameFamilyAs) {
        if (text.indexOf(':') >= 0 || text.chars().allMatch(c -> Character.isDigit(c) || c == '.')) {
            try {
                return InetAddress.ofLiteral(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "' is not an address");
            }
        }
        List<LocalPod> matches = inputs.pods().stream().filter(p -> text.contains("/")
                ? p.displayName().equals(text)
                : p.name().equals(text) || p.pod().id().containerId().equals(text)).toList();
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("no local pod '" + text + "'");
        }
        if (matches.size() > 1) {
            throw new IllegalArgumentException("'" + text + "' names " + matches.size() + " pods ("
                    + String.join(", ", matches.stream().map(LocalPod::displayName).toList()) + "): say namespace/name");
        }
        List<InetAddress> addresses = matches.getFirst().addresses();
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("pod '" + text + "' has no address");
        }
        return addresses.stream().filter(a -> sameFamilyAs == null || a.getClass() == sameFamilyAs.getClass()).findFirst()
                .orElse(addresses.getFirst());
    }
}
