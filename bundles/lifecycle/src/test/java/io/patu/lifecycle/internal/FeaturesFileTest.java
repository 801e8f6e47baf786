package io.patu.lifecycle.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeaturesFileTest {
    @TempDir
    Path stateDir;

    @Test
    void noFileMeansNothingIsDisabled() throws IOException {
        assertEquals(Set.of(), new FeaturesFile(stateDir).readDisabled());
    }

    @Test
    void disabledNamesSurviveAReloadSortedAndUnique() throws IOException {
        new FeaturesFile(stateDir).writeDisabled(List.of("sockmap", "ipam", "sockmap"));
        assertEquals(List.of("ipam", "sockmap"), List.copyOf(new FeaturesFile(stateDir).readDisabled()));
        assertFalse(Files.exists(stateDir.resolve("features.json.tmp")), "the temporary file was renamed");
    }

    @Test
    void theFileIsTheLaunchersContract() throws IOException {
        new FeaturesFile(stateDir).writeDisabled(List.of("sockmap"));
        String json = Files.readString(stateDir.resolve("features.json")).replaceAll("\\s", "");
        assertEquals("{\"disabled\":[\"sockmap\"]}", json);
    }

    @Test
    void otherMembersAndNullsAreIgnored() throws IOException {
        Files.writeString(stateDir.resolve("features.json"), "{\"disabled\": [\"xdp\", null], \"comment\": \"x\"}");
        assertEquals(Set.of("xdp"), new FeaturesFile(stateDir).readDisabled());
    }

    @Test
    void aBrokenFileSaysHowToRepairIt() throws IOException {
        Files.write(stateDir.resolve("features.json"), "{\"disabled\": [".getBytes(StandardCharsets.UTF_8));
        IOException error = assertThrows(IOException.class, () -> new FeaturesFile(stateDir).readDisabled());
        assertTrue(error.getMessage().contains("delete it"), error.getMessage());
    }
}
