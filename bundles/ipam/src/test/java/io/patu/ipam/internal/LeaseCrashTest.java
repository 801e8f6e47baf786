package io.patu.ipam.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.patu.api.PodId;

/**
 * Crash safety of the lease file: a child JVM allocates and releases leases in a loop and is killed with
 * SIGKILL at a random moment, many times over on the same state directory. After every kill the file must
 * load, hold no address twice and give every lease one address of each family; the next child must start
 * on it.
 */
class LeaseCrashTest {
    private static final int ROUNDS = 40;

    @TempDir
    Path state;

    @Test
    void killMinusNineAtRandomMomentsAlwaysLeavesAConsistentLeaseFile() throws Exception {
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        IpamConfig plan = IpamConfig.parse(LeaseChurn.PLAN, IpamConfig.single("10.77.0.0/16", null));
        Path file = state.resolve("ipam/leases.json");
        Set<String> contents = new HashSet<>();
        Path childErrors = Files.createTempFile(state, "child", ".err");
        for (int round = 0; round < ROUNDS; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    LeaseChurn.class.getName(), state.toString(), Integer.toString(round))
                    .redirectError(childErrors.toFile()).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            if (!"ready".equals(first)) {
                child.destroyForcibly().waitFor();
                fail("round " + round + " (seed " + seed + "): the child could not open the leases left by the previous one: "
                        + first + "\n" + Files.readString(childErrors));
            }
            Thread.sleep(random.nextInt(100));
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed by SIGKILL, not ended on its own");

            LeaseStore.Snapshot snapshot = new LeaseStore(state.resolve("ipam")).load(plan);
            for (var lease : snapshot.leases().entrySet()) {
                List<Boolean> families = lease.getValue().stream().map(l -> l.address().isIpv4()).toList();
                assertEquals(List.of(true, false), families, "round " + round + ": " + lease.getKey());
            }
            // Independently of the loader: no address appears twice in the file.
            JsonNode json = new ObjectMapper().readTree(file.toFile());
            Set<String> addresses = new HashSet<>();
            Set<PodId> ids = new HashSet<>();
            for (JsonNode lease : json.get("leases")) {
                assertTrue(ids.add(new PodId(lease.get("containerId").asText(), lease.get("ifName").asText())));
                for (JsonNode address : lease.get("addresses")) {
                    assertTrue(addresses.add(address.get("address").asText()),
                            "round " + round + " (seed " + seed + "): " + address + " twice in " + json);
                }
            }
            contents.add(Files.readString(file));
        }
        assertTrue(contents.size() > ROUNDS * 3 / 4, "the children were killed while changing the file, not before: "
                + contents.size() + " distinct files in " + ROUNDS + " rounds");
    }
}
