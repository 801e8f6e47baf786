package io.patu.datapath.sockmap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

import org.junit.jupiter.api.Test;

import io.patu.api.PodId;

class SockmapCommandsTest {
    @Test
    void podRowsThenTotalThenTheOtherCounters() {
        SequencedMap<String, Long> totals = new LinkedHashMap<>();
        totals.put("msgs_redirected", 12L);
        totals.put("bytes_redirected", 4096L);
        totals.put("msgs_passed", 3L);
        totals.put("sockets_added", 4L);
        List<SockmapDatapath.PodCounters> pods = List.of(
                new SockmapDatapath.PodCounters(InetAddress.ofLiteral("10.77.0.2"), new PodId("c1", "eth0"), 10, 4000),
                new SockmapDatapath.PodCounters(InetAddress.ofLiteral("10.77.0.3"), null, 2, 96));
        assertEquals("""
                ADDRESS    POD      MSGS_REDIRECTED  BYTES_REDIRECTED
                10.77.0.2  c1/eth0  10               4000
                10.77.0.3  -        2                96
                total               12               4096

                msgs_passed=3  sockets_added=4""", SockmapCommands.table(pods, totals));
    }

    @Test
    void podKeysGiveBackTheirAddress() {
        for (String literal : List.of("10.77.0.2", "fd00::2")) {
            InetAddress address = InetAddress.ofLiteral(literal);
            assertEquals(address, SockmapLayouts.addressOf(SockmapLayouts.podKey(address)));
        }
    }
}
