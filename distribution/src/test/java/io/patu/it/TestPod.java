package io.patu.it;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.kernel.netlink.RtNetlink;
import io.patu.kernel.netns.NetNs;

/** A pod as a runtime makes one: a network namespace, then ADD through the CNI plugin; DEL on close. */
final class TestPod implements AutoCloseable {
    static final String CONFIG = "{\"cniVersion\":\"1.0.0\",\"name\":\"patu-it\",\"type\":\"patu\"}";

    final AgentUnderTest agent;
    final String name;
    final String containerId;
    final Path netns;
    final ObjectNode result;
    final InetAddress address;
    final String hostVeth;
    /** The network configuration ADD, CHECK and DEL are given. */
    final String config;
    /** CNI_ARGS of every call (K8S_POD_NAMESPACE=...;K8S_POD_NAME=...), or null for none. */
    final String cniArgs;

    TestPod(AgentUnderTest agent, String name) throws Exception {
        this(agent, name, CONFIG);
    }

    /** A pod made with the network configuration {@code netconf} instead of {@link #CONFIG}. */
    TestPod(AgentUnderTest agent, String name, String netconf) throws Exception {
        this(agent, name, netconf, null);
    }

    /** A pod whose runtime passes {@code cniArgs} as CNI_ARGS, as kubelet names its pods (null: none). */
    TestPod(AgentUnderTest agent, String name, String netconf, String cniArgs) throws Exception {
        this.agent = agent;
        this.config = netconf;
        this.cniArgs = cniArgs;
        this.name = "patu-it-" + agent.id + "-" + name;
        this.containerId = "it-" + agent.id + "-" + name;
        this.netns = NetNs.create(this.name);
        try {
            AgentUnderTest.CniCall add = agent.cni(env("ADD"), config);
            AgentUnderTest.assertExit(0, add);
            result = add.json();
            String cidr = result.get("ips").get(0).get("address").asText();
            address = InetAddress.ofLiteral(cidr.substring(0, cidr.indexOf('/')));
            hostVeth = result.get("interfaces").get(0).get("name").asText();
        } catch (Throwable e) {
            NetNs.delete(this.name);
            throw e;
        }
    }

    Map<String, String> env(String command) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", containerId,
                "CNI_NETNS", netns.toString(), "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni"));
        if (cniArgs != null) {
            env.put("CNI_ARGS", cniArgs);
        }
        return Map.copyOf(env);
    }

    AgentUnderTest.CniCall del() {
        return agent.cni(env("DEL"), config);
    }

    /** Bytes the host side of the pod's veth carried, both directions: every packet of the plain path. */
    long vethBytes() {
        try (RtNetlink host = RtNetlink.open()) {
            return host.link(hostVeth).map(l -> l.rxBytes() + l.txBytes()).orElse(0L);
        }
    }

    @Override
    public void close() {
        try {
            del();
        } finally {
            NetNs.delete(name);
        }
    }
}
