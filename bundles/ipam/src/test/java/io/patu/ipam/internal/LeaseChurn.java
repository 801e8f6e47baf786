package io.patu.ipam.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.osgi.util.converter.Converters;

import io.patu.api.IpamRequest;
import io.patu.api.PodId;

/**
 * A child process for {@link LeaseCrashTest}: opens the allocator on a state directory (recovering whatever
 * the previous, killed, child left) and then allocates and releases dual-stack leases as fast as it can
 * until it is killed. Prints {@code ready} after its first change; exits 2 if opening fails.
 */
public final class LeaseChurn {
    static final String PLAN = """
            {"ranges": [[{"subnet": "10.60.0.0/27"}], [{"subnet": "fd00:60::/123"}]],
             "routes": [{"dst": "192.168.60.0/24"}]}""";

    private LeaseChurn() {
    }

    public static void main(String[] args) {
        String stateDir = args[0];
        String round = args[1];
        HostLocalAllocator ipam;
        try {
            ipam = new HostLocalAllocator(Converters.standardConverter()
                    .convert(Map.of("ipam", PLAN, "stateDir", stateDir)).to(HostLocalAllocator.Config.class));
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(2);
            return;
        }
        Random random = new Random();
        List<PodId> held = new ArrayList<>(ipam.leases().stream().map(l -> l.id()).toList());
        for (long n = 0; ; n++) {
            if (held.size() > 20 || !held.isEmpty() && random.nextInt(3) == 0) {
                ipam.release(held.remove(random.nextInt(held.size())));
            } else {
                PodId id = new PodId("r" + round + "-" + n, random.nextBoolean() ? "eth0" : "net1");
                ipam.allocate(id, IpamRequest.DEFAULTS);
                held.add(id);
            }
            if (n == 0) {
                // Only now: the first change went through, so the kill lands among changes, not in start-up.
                System.out.println("ready");
                System.out.flush();
            }
        }
    }
}
