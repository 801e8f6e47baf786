package io.patu.ota.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state file's life: trial, commit, rollback of a commit; each step written and read back as the launcher reads it. */
class OtaStateTest {
    @TempDir
    Path dir;

    @Test
    void aTrialIsCommittedThenRolledBack() throws Exception {
        assertEquals(OtaState.empty(), OtaState.read(dir));
        OtaState.empty().withTrial(4, 1, Map.of("ipam", "/s/ipam-0.2.0-a.jar")).write(dir);
        OtaState trial = OtaState.read(dir);
        assertTrue(trial.onTrial());
        assertEquals(1, trial.attempts());
        // What bin/patu greps for: plain lines.
        String text = Files.readString(dir.resolve(OtaState.FILE));
        assertTrue(text.contains("\ntrial=4\nattempts=1\ntrial.ipam=/s/ipam-0.2.0-a.jar\n"), text);

        trial.committedTrial(Map.of("ipam", "/dist/bundle/ipam-0.1.0.jar")).write(dir);
        OtaState committed = OtaState.read(dir);
        assertFalse(committed.onTrial());
        assertEquals(4, committed.committed());
        assertEquals(Map.of("ipam", "/s/ipam-0.2.0-a.jar"), committed.current());
        assertEquals(Map.of("ipam", "/dist/bundle/ipam-0.1.0.jar"), committed.previous());

        committed.rolledBackCommit().write(dir);
        OtaState back = OtaState.read(dir);
        assertEquals(Map.of("ipam", "/dist/bundle/ipam-0.1.0.jar"), back.current());
        assertEquals(4, back.committed(), "release 4 stays the newest seen: it is not offered again");
        assertFalse(Files.exists(dir.resolve(OtaState.FILE + ".tmp")));
    }

    @Test
    void aDroppedTrialLeavesTheCommittedReleaseAlone() throws Exception {
        OtaState base = new OtaState(3, Map.of("ipam", "/s/a.jar"), Map.of(), 0, 0, Map.of());
        base.withTrial(4, 2, Map.of("ipam", "/s/b.jar")).withoutTrial().write(dir);
        assertEquals(base, OtaState.read(dir));
    }
}
