package io.patu.lifecycle.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CNI verbs for tests that never reach the kernel: a registry in a temporary directory, a bridge name
 * nothing creates, no ipam and no pod listeners.
 */
final class OfflineVerbs {
    private OfflineVerbs() {
    }

    static CniVerbs create(Path state) throws Exception {
        return new CniVerbs(new PodPlumbing("ptnever0", 1500, new UplinkMtu(0)), new PodRegistry(state), () -> null, List::of);
    }

    /** A complete CNI environment for {@code command}, naming a netns that does not exist. */
    static Map<String, String> env(String command) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", "abc123");
        env.put("CNI_NETNS", "/run/netns/does-not-exist-patu");
        env.put("CNI_IFNAME", "eth0");
        env.put("CNI_PATH", "/opt/cni/bin");
        return env;
    }
}
