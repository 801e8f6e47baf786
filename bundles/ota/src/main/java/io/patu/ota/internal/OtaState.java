package io.patu.ota.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import io.patu.kernel.fs.DurableFiles;

/**
 * Which jar each updated bundle runs: the one file the launcher reads instead of globbing versions, and the
 * only place an update's decisions become durable. Plain {@code key=value} lines, so {@code bin/patu} reads
 * it with bash alone:
 * <pre>
 *   committed=SEQ           the release the device runs (0 or absent: the shipped bundles)
 *   current.SLOT=/abs.jar   the committed jar of bundle SLOT (its profile name); absent: bundle/SLOT-*.jar
 *   previous.SLOT=/abs.jar  what current replaced, for 'patu:ota rollback' after a commit
 *   trial=SEQ               a release on trial, its jars in trial.SLOT=/abs.jar
 *   attempts=N              starts of the trial so far, bumped (durably) before each start
 * </pre>
 * Written whole with write-fsync-rename: after a power cut the file says the old thing or the new one.
 */
record OtaState(long committed, Map<String, String> current, Map<String, String> previous, long trial,
        int attempts, Map<String, String> candidates) {
    static final String FILE = "state";

    OtaState {
        current = Map.copyOf(current);
        previous = Map.copyOf(previous);
        candidates = Map.copyOf(candidates);
    }

    static OtaState empty() {
        return new OtaState(0, Map.of(), Map.of(), 0, 0, Map.of());
    }

    boolean onTrial() {
        return trial > 0;
    }

    static OtaState read(Path directory) throws IOException {
        String text;
        try {
            text = Files.readString(directory.resolve(FILE), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return empty();
        }
        long committed = 0;
        long trial = 0;
        int attempts = 0;
        Map<String, String> current = new TreeMap<>();
        Map<String, String> previous = new TreeMap<>();
        Map<String, String> candidates = new TreeMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (line.startsWith("#") || eq < 1) {
                continue;
            }
            String key = line.substring(0, eq);
            String value = line.substring(eq + 1);
            try {
                switch (key) {
                    case "committed" -> committed = Long.parseLong(value);
                    case "trial" -> trial = Long.parseLong(value);
                    case "attempts" -> attempts = Integer.parseInt(value);
                    default -> {
                        if (key.startsWith("current.")) {
                            current.put(key.substring(8), value);
                        } else if (key.startsWith("previous.")) {
                            previous.put(key.substring(9), value);
                        } else if (key.startsWith("trial.")) {
                            candidates.put(key.substring(6), value);
                        }
                    }
                }
            } catch (NumberFormatException e) {
                throw new IOException(directory.resolve(FILE) + ": '" + line + "' is not a number");
            }
        }
        return new OtaState(committed, current, previous, trial, attempts, candidates);
    }

    void write(Path directory) throws IOException {
        StringBuilder text = new StringBuilder("# Patu OTA state: written by the ota bundle and bin/patu (write, fsync, rename); see docs/ota.md\n");
        text.append("committed=").append(committed).append('\n');
        current.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> text.append("current.").append(e.getKey()).append('=').append(e.getValue()).append('\n'));
        previous.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> text.append("previous.").append(e.getKey()).append('=').append(e.getValue()).append('\n'));
        if (onTrial()) {
            text.append("trial=").append(trial).append('\n').append("attempts=").append(attempts).append('\n');
            candidates.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> text.append("trial.").append(e.getKey()).append('=').append(e.getValue()).append('\n'));
        }
        DurableFiles.writeAtomically(directory.resolve(FILE), text.toString().getBytes(StandardCharsets.UTF_8));
    }

    OtaState withTrial(long sequence, int startedAttempts, Map<String, String> jars) {
        return new OtaState(committed, current, previous, sequence, startedAttempts, jars);
    }

    /** The trial's jars become current; what they replace (the given fallbacks where nothing was current) previous. */
    OtaState committedTrial(Map<String, String> replaced) {
        Map<String, String> newCurrent = new TreeMap<>(current);
        Map<String, String> newPrevious = new TreeMap<>(previous);
        candidates.forEach((slot, jar) -> {
            newPrevious.put(slot, replaced.get(slot));
            newCurrent.put(slot, jar);
        });
        return new OtaState(trial, newCurrent, newPrevious, 0, 0, Map.of());
    }

    OtaState withoutTrial() {
        return new OtaState(committed, current, previous, 0, 0, Map.of());
    }

    /** The previous jars become current again (the release number stays: an older release is still refused). */
    OtaState rolledBackCommit() {
        Map<String, String> newCurrent = new TreeMap<>(current);
        newCurrent.putAll(previous);
        return new OtaState(committed, newCurrent, Map.of(), 0, 0, Map.of());
    }
}
