package io.patu.datapath.xdp.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/**
 * {@code patu:xdp}: the packet datapath's devices, programs, deny rules and counters;
 * {@code patu:xdp add|remove RULE} changes the deny list until the configuration changes or the agent restarts.
 */
@Component(service = XdpCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=xdp"})
public final class XdpCommands {
    private static final String USAGE = "usage: xdp | xdp rules | xdp add CIDR [PROTOCOL [PORT|FIRST-LAST]] | xdp remove RULE";

    private final XdpDatapath datapath;

    @Activate
    public XdpCommands(@Reference XdpDatapath datapath) {
        this.datapath = datapath;
    }

    public String xdp() {
        String view = String.join("\n\n", devices().strip(), rules().strip(), pods().strip(), ports().strip(), programs());
        return datapath.configurationError().map(e -> "ingress configuration refused: " + e + "\n\n" + view).orElse(view);
    }

    public String xdp(String action) {
        if (action.equals("rules")) {
            return rules();
        }
        return USAGE;
    }

    public String xdp(String action, String rule) {
        return change(action, rule);
    }

    public String xdp(String action, String cidr, String protocol) {
        return change(action, cidr + " " + protocol);
    }

    public String xdp(String action, String cidr, String protocol, String ports) {
        return change(action, cidr + " " + protocol + " " + ports);
    }

    private String change(String action, String rule) {
        try {
            return switch (action) {
                case "add" -> {
                    XdpDatapath.RuleCounters added = datapath.addRule(rule);
                    yield "added deny rule " + added.slot() + ": " + added.rule();
                }
                case "remove" -> "removed deny rule " + datapath.removeRule(rule);
                default -> USAGE;
            };
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage();
        }
    }

    String devices() {
        List<List<String>> rows = new ArrayList<>();
        for (XdpDatapath.DeviceCounters device : datapath.deviceCounters()) {
            rows.add(List.of(device.device(), String.valueOf(device.ifindex()), "patu_xdp_ingress (xdp native)",
                    String.valueOf(device.passedPackets()), String.valueOf(device.droppedPackets()),
                    String.valueOf(device.droppedBytes())));
        }
        String publish = datapath.publishDevices().isEmpty() ? ""
                : "\npublished ports also on (tcx, patu_tcx_publish): " + String.join(" ", new java.util.TreeSet<>(
                        datapath.publishDevices().keySet()));
        if (rows.isEmpty()) {
            return "ingress devices: none (ingressDevices is empty)" + publish;
        }
        return new TextTable(List.of("INGRESS_DEVICE", "IFINDEX", "PROGRAM", "PASSED", "DROPPED", "DROPPED_BYTES"),
                rows).render() + publish;
    }

    String rules() {
        List<List<String>> rows = new ArrayList<>();
        for (XdpDatapath.RuleCounters rule : datapath.ruleCounters()) {
            rows.add(List.of(String.valueOf(rule.slot()), rule.rule().text(), String.valueOf(rule.droppedPackets()),
                    String.valueOf(rule.droppedBytes())));
        }
        if (rows.isEmpty()) {
            return "deny rules: none";
        }
        return new TextTable(List.of("RULE", "DENY", "DROPPED", "DROPPED_BYTES"), rows).render();
    }

    String pods() {
        List<List<String>> rows = new ArrayList<>();
        for (XdpDatapath.PodCounters pod : datapath.podCounters()) {
            rows.add(List.of(pod.hostVeth(), pod.pod().toString(),
                    pod.addresses().stream().map(XdpCommands::text).collect(Collectors.joining(",")),
                    String.valueOf(pod.deliveredPackets()), String.valueOf(pod.deliveredBytes()),
                    String.valueOf(pod.passedPackets())));
        }
        if (rows.isEmpty()) {
            return "pods: none";
        }
        return new TextTable(List.of("HOST_VETH", "POD", "ADDRESSES", "DELIVERED", "DELIVERED_BYTES", "TO_BRIDGE"),
                rows).render() + "\n(patu_tcx_deliver on each host veth's tcx ingress)";
    }

    String ports() {
        long[] counters = datapath.portCounters();
        String translated = "translated: " + counters[0] + " from ingress devices, " + counters[1] + " from pods, "
                + counters[2] + " replies, " + counters[3] + " node sockets\n"
                + "from ingress devices: " + counters[4] + " delivered straight to the pod (bpf_redirect_peer), "
                + counters[5] + " left to the stack (pod isolated by policy)";
        List<List<String>> rows = new ArrayList<>();
        for (XdpDatapath.PublishedPort port : datapath.publishedPorts()) {
            rows.add(List.of(port.mapping().protocol(), port.mapping().host().map(XdpCommands::text)
                    .orElse(port.podAddress() instanceof java.net.Inet4Address ? "any IPv4" : "any IPv6"),
                    String.valueOf(port.mapping().hostPort()), port.pod().toString(), text(port.podAddress()),
                    String.valueOf(port.mapping().containerPort())));
        }
        if (rows.isEmpty()) {
            return "published ports: none\n" + translated;
        }
        return new TextTable(List.of("PROTO", "NODE_ADDRESS", "HOST_PORT", "POD", "POD_ADDRESS", "CONTAINER_PORT"), rows)
                .render() + "\n" + translated;
    }

    /** An address as operators write it: IPv6 with its longest run of zero groups as "::". */
    static String text(InetAddress address) {
        String full = address.getHostAddress();
        if (!(address instanceof java.net.Inet6Address)) {
            return full;
        }
        String best = null;
        java.util.regex.Matcher zeros = java.util.regex.Pattern.compile("(?:^|:)(?:0:)+0(?::|$)|(?:^|:)0(?::|$)").matcher(full);
        while (zeros.find()) {
            if (best == null || zeros.group().length() > best.length()) {
                best = zeros.group();
            }
        }
        return best == null || !best.contains("0:0") ? full : full.replaceFirst(java.util.regex.Pattern.quote(best), "::");
    }

    String programs() {
        List<String> links = datapath.links();
        return "links pinned: " + (links.isEmpty() ? "none" : String.join(" ", links));
    }
}
