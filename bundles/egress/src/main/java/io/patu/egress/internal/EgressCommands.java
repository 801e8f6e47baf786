package io.patu.egress.internal;

import java.util.List;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/** {@code patu:egress}: what leaves the node masqueraded, per family. */
@Component(service = EgressCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=egress"})
public final class EgressCommands {
    private final PodEgress egress;

    @Activate
    public EgressCommands(@Reference PodEgress egress) {
        this.egress = egress;
    }

    public String egress() {
        return table(egress.status());
    }

    static String table(PodEgress.Status status) {
        List<List<String>> rows = List.of(
                row("IPv4", status.masquerade4(), status.forwarding4(), status.connections4(), status.podNets(), status.excluded(), true),
                row("IPv6", status.masquerade6(), status.forwarding6(), status.connections6(), status.podNets(), status.excluded(), false));
        return "nftables table " + status.table() + "\n" + new TextTable(List.of("FAMILY", "MASQUERADE", "FORWARDING",
                "CONNECTIONS_MASQUERADED", "POD_SUBNETS", "EXCLUDED"), rows).render();
    }

    private static List<String> row(String family, boolean masquerade, boolean forwarding, long connections, List<Cidr> nets,
                                    List<Cidr> excluded, boolean ipv4) {
        return List.of(family, masquerade ? "on" : "off", forwarding ? "on" : "off", connections < 0 ? "-" : Long.toString(connections),
                join(nets, ipv4), join(excluded, ipv4));
    }

    private static String join(List<Cidr> cidrs, boolean ipv4) {
        String text = cidrs.stream().filter(c -> c.isIpv4() == ipv4).map(Cidr::toString).collect(Collectors.joining(","));
        return text.isEmpty() ? "-" : text;
    }
}
