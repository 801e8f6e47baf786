package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.patu.kernel.bpf.Bpffs;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;

/**
 * Native XDP on an ingress device: an "outside" namespace whose veth peer on the host plays the node's NIC
 * (veth runs XDP natively), sending to a pod through the host. What the deny list names is dropped before an
 * skb exists; the rest is forwarded to the pod as before. Bad configurations change nothing.
 */
@KernelTest
class XdpIngressKernelTest {
    private PodNet net;
    private Path bpffsDir;
    private XdpDatapath datapath;
    private PodNet.TestPod pod;
    private String ingress;
    private Path outside;
    private String outsidePrefix;

    @BeforeEach
    void createNode() {
        Bpffs.ensureMounted(Bpffs.DEFAULT_MOUNT);
        net = new PodNet();
        bpffsDir = Bpffs.DEFAULT_MOUNT.resolve("px-" + net.id);
        pod = net.addPod("p");
        ingress = "pxo" + net.id;
        String outsideName = "px-" + net.id + "-out";
        outside = NetNs.create(outsideName);
        net.own(ingress, outsideName);
        outsidePrefix = "10.232." + Integer.parseInt(net.id.substring(0, 2), 16) + ".";
        Commands.check("ip", "link", "add", ingress, "type", "veth", "peer", "name", "eth0", "netns", outsideName);
        Commands.check("ip", "addr", "add", outsidePrefix + "1/29", "dev", ingress);
        Commands.check("ip", "link", "set", ingress, "up");
        Commands.check("ip", "-n", outsideName, "addr", "add", outsidePrefix + "2/29", "dev", "eth0");
        Commands.check("ip", "-n", outsideName, "addr", "add", outsidePrefix + "3/29", "dev", "eth0");
        Commands.check("ip", "-n", outsideName, "link", "set", "eth0", "up");
        Commands.check("ip", "-n", outsideName, "route", "add", net.v4Prefix + "0/24", "via", outsidePrefix + "1");
    }

    @AfterEach
    void removeEverything() {
        try {
            if (datapath != null) {
                datapath.close();
            }
        } finally {
            net.close();
            if (Files.exists(bpffsDir)) {
                Commands.run("rm", "-rf", bpffsDir.toString());
            }
        }
        assertFalse(Files.exists(bpffsDir), "pins removed");
    }

    private XdpDatapath start(List<String> devices, List<String> rules) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("bpffsDir", bpffsDir.toString());
        properties.put("nodeCgroup", net.cgroup.toString());
        properties.put("ingressDevices", devices.toArray(String[]::new));
        properties.put("denyRules", rules.toArray(String[]::new));
        return new XdpDatapath(Converters.standardConverter().convert(properties).to(XdpDatapath.Config.class));
    }

    private XdpDatapath.Config config(List<String> devices, List<String> rules) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("bpffsDir", bpffsDir.toString());
        properties.put("nodeCgroup", net.cgroup.toString());
        properties.put("ingressDevices", devices.toArray(String[]::new));
        properties.put("denyRules", rules.toArray(String[]::new));
        return Converters.standardConverter().convert(properties).to(XdpDatapath.Config.class);
    }

    /** Datagrams from the outside namespace, sent from {@code source}, that reach the pod. */
    private int fromOutside(String source, int port, int count) throws Exception {
        return Traffic.udpFrom(outside, InetAddress.ofLiteral(source), pod.netns(), pod.v4(), port, count);
    }

    private boolean hasXdp(String device) {
        return Commands.check("ip", "link", "show", device).contains("xdp");
    }

    @Test
    void aDeniedSourceIsDroppedAtTheDeviceAndOthersPass() throws Exception {
        datapath = start(List.of(ingress), List.of(outsidePrefix + "3/32", outsidePrefix + "2/32 udp 7401-7402"));
        datapath.podAdded(pod.pod());
        assertTrue(Commands.check("ip", "link", "show", ingress).contains("xdp "),
                "native XDP (ip link shows 'xdp', not 'xdpgeneric')");
        // Neighbours first (ARP is never denied), then the measured runs.
        fromOutside(outsidePrefix + "2", 7400, 3);

        assertEquals(500, fromOutside(outsidePrefix + "2", 7400, 500), "an allowed source and port pass");
        assertEquals(0, fromOutside(outsidePrefix + "3", 7400, 500), "a denied source reaches nothing");
        assertEquals(0, fromOutside(outsidePrefix + "2", 7402, 500), "a denied port reaches nothing");

        List<XdpDatapath.RuleCounters> rules = datapath.ruleCounters();
        assertEquals(500, rules.get(0).droppedPackets(), "dropped by the source rule: " + rules);
        assertEquals(500, rules.get(1).droppedPackets(), "dropped by the port rule: " + rules);
        XdpDatapath.DeviceCounters device = datapath.deviceCounters().get(0);
        assertEquals(1000, device.droppedPackets(), device.toString());
        assertTrue(device.passedPackets() >= 500, device.toString());
        String view = new XdpCommands(datapath).xdp();
        System.out.println(view);
        assertTrue(view.contains(ingress) && view.contains(outsidePrefix + "3/32") && view.contains("500"), view);

        // At run time: a rule added drops at once, removed lets through again.
        XdpCommands commands = new XdpCommands(datapath);
        assertTrue(commands.xdp("add", outsidePrefix + "2/32", "udp", "7400").startsWith("added deny rule 2"));
        assertEquals(0, fromOutside(outsidePrefix + "2", 7400, 100));
        assertTrue(commands.xdp("add", outsidePrefix + "0/30").contains("overlaps"), "overlap refused");
        assertTrue(commands.xdp("remove", outsidePrefix + "2/32", "udp", "7400").startsWith("removed"));
        assertEquals(100, fromOutside(outsidePrefix + "2", 7400, 100));
        assertEquals(2, datapath.ruleCounters().size());

        datapath.close();
        datapath = null;
        assertFalse(hasXdp(ingress), "stopping removed the XDP program");
    }

    @Test
    void theDenyListStaysInForceAcrossAnAgentRestart() throws Exception {
        datapath = start(List.of(ingress), List.of(outsidePrefix + "3/32"));
        fromOutside(outsidePrefix + "2", 7420, 3);
        datapath.keepForRestart(); // the agent stops: the program stays attached
        datapath = null;
        assertEquals(0, fromOutside(outsidePrefix + "3", 7420, 100), "dropped with no agent running");
        assertEquals(100, fromOutside(outsidePrefix + "2", 7420, 100));
        datapath = start(List.of(ingress), List.of(outsidePrefix + "3/32"));
        assertTrue(hasXdp(ingress));
        assertEquals(0, fromOutside(outsidePrefix + "3", 7421, 100), "dropped by the next agent's program");
        assertEquals(100, datapath.ruleCounters().get(0).droppedPackets());
        assertEquals(List.of("link_ingress_" + datapath.deviceCounters().get(0).ifindex()),
                datapath.links().stream().filter(l -> l.startsWith("link_ingress_")).toList(), "the same link, taken over");
    }

    @Test
    void hostileConfigurationsAreRefusedAndAttachNothing() throws Exception {
        assertRefused(List.of("pxnope" + net.id), List.of(), "ingress device 'pxnope" + net.id + "' does not exist");
        // A bridge has no native XDP: refused, and the veth listed before it is left without a program.
        assertRefused(List.of(ingress, net.bridge), List.of(), "ingress device '" + net.bridge + "' (a virtual device "
                + "without a driver of its own) cannot run native XDP");
        assertRefused(List.of(ingress), List.of("10.0.0.0/33"), "prefix length /33");
        assertRefused(List.of(ingress), List.of("10.0.0.1/8"), "host bits set");
        assertRefused(List.of(ingress), List.of("10.0.0.0/8 tcp", "10.1.0.0/16 tcp 80"),
                "deny rule '10.1.0.0/16 tcp 80' overlaps deny rule '10.0.0.0/8 tcp'");
    }

    /** The datapath starts for the pods, with no ingress device and no rule, and says why. */
    private void assertRefused(List<String> devices, List<String> rules, String message) throws Exception {
        datapath = start(devices, rules);
        try {
            String error = datapath.configurationError().orElseThrow();
            assertTrue(error.contains(message), error);
            assertTrue(new XdpCommands(datapath).xdp().startsWith("ingress configuration refused: " + error));
            assertEquals(List.of(), datapath.deviceCounters(), "no ingress device");
            assertEquals(List.of(), datapath.ruleCounters(), "no deny rule");
            assertFalse(hasXdp(ingress), "no XDP left on " + ingress + " after: " + error);
            assertTrue(datapath.links().stream().noneMatch(l -> l.startsWith("link_ingress_") || l.startsWith("link_handoff_")),
                    datapath.links().toString());
            datapath.podAdded(pod.pod());
            assertTrue(Files.exists(bpffsDir.resolve("xdp/link_pod_" + pod.pod().hostIfIndex())), "pods are served");
        } finally {
            datapath.close();
            datapath = null;
        }
        assertFalse(Files.exists(bpffsDir.resolve("xdp")), "nothing left after " + message);
    }

    @Test
    void aConfigurationChangeThatCannotBeAppliedLeavesThePreviousOneInForce() throws Exception {
        datapath = start(List.of(ingress), List.of(outsidePrefix + "3/32"));
        datapath.modified(config(List.of(ingress, net.bridge), List.of("192.0.2.0/24")));
        assertTrue(datapath.configurationError().orElseThrow().contains("cannot run native XDP"));
        datapath.modified(config(List.of(ingress), List.of("192.0.2.0/24", "192.0.2.0/25")));
        assertTrue(datapath.configurationError().orElseThrow().contains("overlaps"));
        assertEquals(List.of(outsidePrefix + "3/32"), datapath.ruleCounters().stream().map(r -> r.rule().text()).toList());
        assertTrue(hasXdp(ingress));
        assertEquals(0, fromOutside(outsidePrefix + "3", 7400, 50), "the old rule still drops");

        // A good change: the device goes, the rules are replaced.
        datapath.modified(config(List.of(), List.of("192.0.2.0/24")));
        assertTrue(datapath.configurationError().isEmpty());
        assertFalse(hasXdp(ingress));
        assertEquals(List.of("192.0.2.0/24"), datapath.ruleCounters().stream().map(r -> r.rule().text()).toList());
    }
}
