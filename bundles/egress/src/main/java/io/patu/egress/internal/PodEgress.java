package io.patu.egress.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.patu.api.Egress;
import io.patu.api.HealthCheck;
import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.api.PodListener;
import io.patu.kernel.nft.Nftables;

/**
 * Egress for pods: their traffic to destinations beyond the node leaves with the node's address as its
 * source (masquerade), and the node forwards it.
 *
 * <p>nftables rather than eBPF: source NAT needs connection tracking, port allocation when two pods pick the
 * same source port, and the reverse translation of replies and of ICMP errors about them. The kernel's NAT
 * does all of that, and pod traffic to the outside is routed by the host stack anyway, where conntrack
 * already sees it; an eBPF SNAT would have to carry its own connection table and port allocator (Cilium's is
 * thousands of lines) to save little on a path that is not Patu's fast path. The rules live in one table
 * that Patu owns alone, changed only through libnftables (no {@code nft} process on the ADD path).
 *
 * <p>The pod subnets come from the pods themselves ({@link PodListener}): each address's prefix, as its range
 * gives it, whether the range is the agent's own or one a network configuration's {@code ipam} brought. The
 * set changes only when the first pod of a subnet arrives or the last one leaves. A bundle started late is
 * replayed every pod, so its sets are complete before it answers anything.
 */
@Component(service = {Egress.class, PodListener.class, HealthCheck.class, PodEgress.class}, immediate = true,
        property = HealthCheck.NAME + "=" + PodEgress.FEATURE,
        configurationPid = Egress.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = PodEgress.Config.class)
public final class PodEgress implements Egress, PodListener, HealthCheck {
    public static final String FEATURE = "egress";
    private static final Logger LOG = Logger.getLogger(PodEgress.class.getName());

    @ObjectClassDefinition(name = "Patu egress", description = "Pods' traffic leaving the node: forwarding and masquerade")
    public @interface Config {
        @AttributeDefinition(description = "masquerade IPv4 traffic from pods to destinations beyond the node's pod "
                + "subnets to the node's address (the reference bridge plugin's ipMasq)")
        boolean masqueradeIpv4() default true;

        @AttributeDefinition(description = "masquerade IPv6 likewise (NAT66); on when pods have unique local (fd00::/8) "
                + "addresses that the outside cannot route back")
        boolean masqueradeIpv6() default false;

        @AttributeDefinition(description = "destinations (CIDR, either family) that pods reach with their own address: "
                + "a site network that routes the pod subnets back to this node, for example")
        String[] excludedDestinations() default {};

        @AttributeDefinition(description = "turn IP forwarding on for a family when its first pod appears (never off)")
        boolean manageForwarding() default true;

        @AttributeDefinition(description = "the nftables table (family inet) the rules live in; Patu owns it alone")
        String table() default "patu_egress";
    }

    private final EgressRuleset ruleset;
    private final boolean masquerade4;
    private final boolean masquerade6;
    private final boolean manageForwarding;
    private final List<Cidr> excluded;
    private final Nftables nft;
    /** The subnets each pod's addresses lie in; the sets hold their union. */
    private final Map<PodId, List<Cidr>> podNets = new HashMap<>();
    private TreeSet<Cidr> installed4 = new TreeSet<>();
    private TreeSet<Cidr> installed6 = new TreeSet<>();

    @Activate
    public PodEgress(Config config) {
        List<Cidr> exclusions = new ArrayList<>();
        for (String text : config.excludedDestinations()) {
            if (!text.isBlank()) {
                try {
                    exclusions.add(Cidr.parse(text));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(Egress.PID + " excludedDestinations: " + e.getMessage(), e);
                }
            }
        }
        this.excluded = List.copyOf(exclusions);
        this.masquerade4 = config.masqueradeIpv4();
        this.masquerade6 = config.masqueradeIpv6();
        this.manageForwarding = config.manageForwarding();
        this.ruleset = new EgressRuleset(config.table(), masquerade4, masquerade6, excluded);
        this.nft = Nftables.open();
        try {
            nft.run(ruleset.create());
        } catch (RuntimeException e) {
            nft.close();
            throw e;
        }
        LOG.info(() -> "egress: nftables table " + EgressRuleset.FAMILY + " " + ruleset.table() + " masquerades "
                + describe() + (excluded.isEmpty() ? "" : ", except to " + excluded));
    }

    @Deactivate
    synchronized void deactivate() {
        // Unlike the eBPF pins, the table goes when the agent stops: nothing of Patu's stays in the
        // host's firewall behind an agent that no longer runs. Established connections keep their
        // translation, which conntrack holds (docs/egress.md): a restart does not cut them.
        try {
            if (nft.tableExists(EgressRuleset.FAMILY, ruleset.table())) {
                nft.run(ruleset.delete());
            }
            LOG.info(() -> "egress: nftables table " + EgressRuleset.FAMILY + " " + ruleset.table() + " removed");
        } finally {
            nft.close();
        }
    }

    @Override
    public boolean masquerades(boolean ipv4) {
        return ipv4 ? masquerade4 : masquerade6;
    }

    @Override
    public synchronized void podAdded(Pod pod) {
        List<Cidr> nets = pod.addresses().stream().map(a -> Cidr.of(a.address(), a.prefixLength())).toList();
        if (manageForwarding) {
            for (PodAddress address : pod.addresses()) {
                Forwarding.enable(address.isIpv4());
            }
        }
        List<Cidr> previous = podNets.put(pod.id(), nets);
        try {
            sync();
        } catch (RuntimeException e) {
            if (previous == null) {
                podNets.remove(pod.id());
            } else {
                podNets.put(pod.id(), previous);
            }
            throw e;
        }
    }

    @Override
    public synchronized void podRemoved(Pod pod) {
        if (podNets.remove(pod.id()) != null) {
            sync();
        }
    }

    /** Brings each family's set in line with the pods' subnets, touching the kernel only on a change. */
    private void sync() {
        TreeSet<Cidr> wanted4 = new TreeSet<>();
        TreeSet<Cidr> wanted6 = new TreeSet<>();
        for (Collection<Cidr> nets : podNets.values()) {
            for (Cidr net : nets) {
                (net.isIpv4() ? wanted4 : wanted6).add(net);
            }
        }
        StringBuilder commands = new StringBuilder();
        if (!wanted4.equals(installed4)) {
            commands.append(ruleset.podNets(true, wanted4));
        }
        if (!wanted6.equals(installed6)) {
            commands.append(ruleset.podNets(false, wanted6));
        }
        if (!commands.isEmpty()) {
            nft.run(commands.toString());
            installed4 = wanted4;
            installed6 = wanted6;
            LOG.fine(() -> "egress: pod subnets now " + wanted4 + " " + wanted6);
        }
    }

    /** What {@code patu:egress} shows. */
    synchronized Status status() {
        List<Cidr> nets = new ArrayList<>(installed4);
        nets.addAll(installed6);
        String chain;
        try {
            chain = nft.run(ruleset.listChain());
        } catch (RuntimeException e) {
            chain = ""; // the table is gone: problems() says so
        }
        return new Status(EgressRuleset.FAMILY + " " + ruleset.table(), masquerade4, masquerade6, excluded, nets,
                Forwarding.enabled(true), Forwarding.enabled(false), EgressRuleset.masqueraded(chain, true),
                EgressRuleset.masqueraded(chain, false));
    }

    /**
     * @param connections4 IPv4 connections masqueraded since the table was made; -1 when none are masqueraded
     * @param connections6 the same for IPv6
     */
    record Status(String table, boolean masquerade4, boolean masquerade6, List<Cidr> excluded, List<Cidr> podNets,
                  boolean forwarding4, boolean forwarding6, long connections4, long connections6) {
    }

    /** Healthy while the table is in place and forwarding is on for every family a pod has. */
    @Override
    public synchronized List<String> problems() {
        List<String> problems = new ArrayList<>();
        try {
            if (!nft.tableExists(EgressRuleset.FAMILY, ruleset.table())) {
                problems.add("nftables table " + EgressRuleset.FAMILY + " " + ruleset.table() + " is missing: pods are not masqueraded");
            }
        } catch (RuntimeException e) {
            problems.add("nftables cannot be read: " + e.getMessage());
        }
        if (!installed4.isEmpty() && !Forwarding.enabled(true)) {
            problems.add("IPv4 forwarding is off (" + Forwarding.IPV4 + "): pods cannot reach beyond the node");
        }
        if (!installed6.isEmpty() && !Forwarding.enabled(false)) {
            problems.add("IPv6 forwarding is off (" + Forwarding.IPV6 + "): pods cannot reach beyond the node");
        }
        return problems;
    }

    private String describe() {
        if (!masquerade4 && !masquerade6) {
            return "nothing (masqueradeIpv4 and masqueradeIpv6 are off)";
        }
        return masquerade4 && masquerade6 ? "IPv4 and IPv6" : masquerade4 ? "IPv4" : "IPv6";
    }
}
