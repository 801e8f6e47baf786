package io.patu.datapath.xdp.internal;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.patu.api.Pod;
import io.patu.api.PodAddress;
import io.patu.api.PodId;
import io.patu.kernel.fs.CgroupV2;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.TestNames;

/**
 * A node in miniature, built with iproute2 as the lifecycle bundle builds it: a bridge holding the gateways,
 * and pods in network namespaces on veths, dual stack. Every name carries the test prefix {@code px} and a
 * random part; {@link #close()} removes all of it.
 */
final class PodNet implements AutoCloseable {
    final String id = TestNames.unique("", 6);
    /** Prefix of every name this node uses. */
    final String prefix;
    final String bridge;
    /** A cgroup v2 of its own for the node's socket hooks (never the root). */
    final Path cgroup;
    final String v4Prefix;
    final String v6Prefix;
    private final List<TestPod> pods = new ArrayList<>();
    private final List<String> extraLinks = new ArrayList<>();
    private final List<String> extraNetns = new ArrayList<>();

    /** A pod as the datapath is told about it, plus what the test needs to drive it. */
    record TestPod(Pod pod, String netnsName, Path netns, InetAddress v4, InetAddress v6) {
        String hostVeth() {
            return pod.hostVeth();
        }
    }

    PodNet() {
        this("px");
    }

    PodNet(String prefix) {
        this.prefix = prefix;
        this.bridge = prefix + "b" + id;
        this.cgroup = CgroupV2.create(CgroupV2.ensureMounted(), prefix + "-" + id);
        int third = Integer.parseInt(id.substring(0, 2), 16);
        v4Prefix = "10.231." + third + ".";
        v6Prefix = "fd00:231:" + id.substring(0, 4) + "::";
        Commands.check("ip", "link", "add", bridge, "type", "bridge");
        Commands.check("ip", "addr", "add", v4Prefix + "1/24", "dev", bridge);
        Commands.check("ip", "addr", "add", v6Prefix + "1/64", "dev", bridge, "nodad");
        Commands.check("ip", "link", "set", bridge, "up");
    }

    TestPod addPod(String name) {
        int n = pods.size() + 10;
        String netnsName = prefix + "-" + id + "-" + name;
        String hostVeth = prefix + "h" + id + name;
        Path netns = NetNs.create(netnsName);
        extraNetns.add(netnsName);
        Commands.check("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netnsName);
        extraLinks.add(hostVeth);
        Commands.check("ip", "link", "set", hostVeth, "master", bridge, "up");
        InetAddress v4 = InetAddress.ofLiteral(v4Prefix + n);
        InetAddress v6 = InetAddress.ofLiteral(v6Prefix + Integer.toHexString(n));
        Commands.check("ip", "-n", netnsName, "addr", "add", v4.getHostAddress() + "/24", "dev", "eth0");
        Commands.check("ip", "-n", netnsName, "addr", "add", v6.getHostAddress() + "/64", "dev", "eth0", "nodad");
        Commands.check("ip", "-n", netnsName, "link", "set", "eth0", "up");
        Commands.check("ip", "-n", netnsName, "link", "set", "lo", "up");
        Commands.check("ip", "-n", netnsName, "route", "add", "default", "via", v4Prefix + "1");
        String mac = podMac(netnsName);
        int ifindex = Integer.parseInt(Commands.check("cat", "/sys/class/net/" + hostVeth + "/ifindex").strip());
        Pod pod = new Pod(new PodId(prefix + "-" + id + "-" + name, "eth0"), netns.toString(), hostVeth, ifindex, mac,
                List.of(new PodAddress(v4, 24, InetAddress.ofLiteral(v4Prefix + "1")),
                        new PodAddress(v6, 64, InetAddress.ofLiteral(v6Prefix + "1"))));
        TestPod testPod = new TestPod(pod, netnsName, netns, v4, v6);
        pods.add(testPod);
        return testPod;
    }

    private static String podMac(String netnsName) {
        return Commands.check("ip", "netns", "exec", netnsName, "cat", "/sys/class/net/eth0/address").strip();
    }

    /** A link statistic of a host-side device, e.g. {@code tx_packets}. */
    static long stat(String device, String name) {
        return Long.parseLong(Commands.check("cat", "/sys/class/net/" + device + "/statistics/" + name).strip());
    }

    /** Notes a device or namespace the test created outside this class, to be removed with it. */
    void own(String link, String netnsName) {
        if (link != null) {
            extraLinks.add(link);
        }
        if (netnsName != null) {
            extraNetns.add(netnsName);
        }
    }

    @Override
    public void close() {
        for (String link : extraLinks) {
            Commands.run("ip", "link", "del", link);
        }
        for (String netns : extraNetns) {
            NetNs.delete(netns);
        }
        Commands.run("ip", "link", "del", bridge);
        CgroupV2.remove(cgroup);
    }
}
