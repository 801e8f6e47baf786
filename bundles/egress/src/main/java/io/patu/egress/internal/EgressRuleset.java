package io.patu.egress.internal;

import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The nftables text of the egress table: what it masquerades, and the commands that create, refill and
 * remove it. Everything lives in one {@code inet} table that Patu owns alone (both families in one place,
 * and nothing else on the host is ever read or changed); every change is one libnftables batch, so packets
 * meet the old rules or the new ones.
 *
 * <p>The rule, per family that masquerades: source in a pod subnet, destination neither in a pod subnet
 * (traffic between pods, routed or bridged, keeps its source), nor excluded by the operator, nor multicast
 * (as the reference bridge plugin's ipMasq leaves multicast alone). Only the postrouting hook of NAT sees
 * it, so only forwarded traffic is concerned: what a pod sends to the node itself is not.
 */
final class EgressRuleset {
    /** nftables identifiers: a letter first, then letters, digits, '_' and '.'; short enough to read. */
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.]{0,63}");
    static final String FAMILY = "inet";
    static final String POD_NETS_4 = "pod_nets4";
    static final String POD_NETS_6 = "pod_nets6";

    private final String table;
    private final boolean masquerade4;
    private final boolean masquerade6;
    private final List<Cidr> excluded;

    EgressRuleset(String table, boolean masquerade4, boolean masquerade6, List<Cidr> excluded) {
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("table '" + table + "' is not an nftables name (a letter, then letters, "
                    + "digits, '_' or '.', at most 64)");
        }
        this.table = table;
        this.masquerade4 = masquerade4;
        this.masquerade6 = masquerade6;
        this.excluded = List.copyOf(excluded);
    }

    String table() {
        return table;
    }

    /**
     * Creates the table from scratch, replacing one a previous agent left (a crash skips the removal): the
     * empty {@code add} makes the {@code delete} valid whether or not it existed, in the same transaction.
     */
    String create() {
        String name = FAMILY + " " + table;
        StringBuilder out = new StringBuilder();
        out.append("add table ").append(name).append('\n');
        out.append("delete table ").append(name).append('\n');
        out.append("table ").append(name).append(" {\n");
        out.append("  comment \"Patu egress: pods' traffic leaving the node (io.patu.egress); removed when the agent stops\"\n");
        set(out, POD_NETS_4, "ipv4_addr", List.of());
        set(out, POD_NETS_6, "ipv6_addr", List.of());
        set(out, "excluded4", "ipv4_addr", excluded.stream().filter(Cidr::isIpv4).toList());
        set(out, "excluded6", "ipv6_addr", excluded.stream().filter(c -> !c.isIpv4()).toList());
        out.append("  chain postrouting {\n");
        out.append("    type nat hook postrouting priority srcnat; policy accept;\n");
        if (masquerade4) {
            out.append("    ip saddr @pod_nets4 ip daddr != @pod_nets4 ip daddr != @excluded4 ip daddr != 224.0.0.0/4 counter masquerade\n");
        }
        if (masquerade6) {
            out.append("    ip6 saddr @pod_nets6 ip6 daddr != @pod_nets6 ip6 daddr != @excluded6 ip6 daddr != ff00::/8 counter masquerade\n");
        }
        out.append("  }\n}\n");
        return out.toString();
    }

    /** Replaces the pod subnets of one family, atomically. */
    String podNets(boolean ipv4, Collection<Cidr> nets) {
        String set = FAMILY + " " + table + " " + (ipv4 ? POD_NETS_4 : POD_NETS_6);
        StringBuilder out = new StringBuilder("flush set ").append(set).append('\n');
        if (!nets.isEmpty()) {
            out.append("add element ").append(set).append(" { ").append(elements(nets)).append(" }\n");
        }
        return out.toString();
    }

    /** Lists the chain, whose rules carry the counters {@link #masqueraded} reads. */
    String listChain() {
        return "list chain " + FAMILY + " " + table + " postrouting\n";
    }

    /**
     * Connections masqueraded so far, per family, read from the listing of {@link #listChain}: a NAT chain sees
     * only the first packet of each connection, so the rule's packet counter counts connections. -1 for a
     * family without a rule.
     */
    static long masqueraded(String chainListing, boolean ipv4) {
        String head = (ipv4 ? "ip" : "ip6") + " saddr @";
        for (String line : chainListing.split("\n")) {
            String rule = line.strip();
            java.util.regex.Matcher counter = COUNTER.matcher(rule);
            if (rule.startsWith(head) && rule.endsWith("masquerade") && counter.find()) {
                return Long.parseLong(counter.group(1));
            }
        }
        return -1;
    }

    private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+) bytes \\d+");

    String delete() {
        return "delete table " + FAMILY + " " + table + "\n";
    }

    private static void set(StringBuilder out, String name, String type, List<Cidr> elements) {
        // auto-merge: overlapping prefixes (a /24 inside a /16) are one interval, not an error.
        out.append("  set ").append(name).append(" { type ").append(type).append("; flags interval; auto-merge;");
        if (!elements.isEmpty()) {
            out.append(" elements = { ").append(elements(elements)).append(" };");
        }
        out.append(" }\n");
    }

    private static String elements(Collection<Cidr> nets) {
        return nets.stream().sorted().map(Cidr::toString).collect(Collectors.joining(", "));
    }
}
