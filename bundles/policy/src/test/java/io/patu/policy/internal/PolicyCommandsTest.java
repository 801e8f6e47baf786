package io.patu.policy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;

import org.junit.jupiter.api.Test;

/** {@code patu:policystats}: one row a hooked pod veth, named by the pod policy knows on it. */
class PolicyCommandsTest {
    private static SequencedMap<String, Long> status() {
        SequencedMap<String, Long> status = new LinkedHashMap<>();
        status.put("generation", 7L);
        status.put("last_apply_us", 1500L);
        status.put("last_write_us", 300L);
        status.put("last_revalidate_us", 900L);
        status.put("hooked_veths", 2L);
        return status;
    }

    @Test
    void aRowAPodWithItsNameAddressAndVethAndAPodPolicyDoesNotKnowAsADash() {
        LocalPod xa = new LocalPod(TestPods.world("x/a"), "x", "a", Map.of("pod", "a"), List.of(), true);
        List<PolicyCommands.Row> rows = PolicyCommands.rows(List.of(
                        new PolicyDatapath.PodCounters(111, 10, 3, 12, 0, 4, 1),
                        new PolicyDatapath.PodCounters(999, 0, 0, 5, 2, 1, 0)),
                i -> i == 111 ? Optional.of(xa) : Optional.empty(), i -> "vpp" + i);
        String table = PolicyCommands.render(rows, status());
        assertEquals("""
                POD  ADDRESS   HOST_VETH  INGRESS_ALLOWED  INGRESS_DENIED  EGRESS_ALLOWED  EGRESS_DENIED  FLOWS_DECIDED  SOCKETS_DESTROYED
                x/a  10.9.1.1  vpp111     10               3               12              0              4              1
                -    -         vpp999     0                0               5               2              1              0
                generation 7 in force: last change took 1500 us (maps written and switched after 300 us, sockets \
                revalidated in 900 us); 2 pod veths hooked""", table);

        PolicyCommands.Row row = rows.getFirst();
        assertTrue(row.matches("x/a") && row.matches("a") && row.matches("10.9.1.1") && row.matches("vpp111"));
        assertFalse(row.matches("b") || row.matches("x/ab") || row.matches("10.9.1.11"));
    }

    @Test
    void noPodsStillShowsTheGeneration() {
        assertTrue(PolicyCommands.render(List.of(), status()).startsWith("no pods\ngeneration 7 in force"));
    }
}
