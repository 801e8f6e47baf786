package io.patu.ota.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.patu.kernel.fs.DurableFiles;

/**
 * What happened to each release, for {@code patu:ota history}: one tab-separated line an event (time, release,
 * outcome, detail). The ota bundle rewrites the file durably; the launcher appends a line when it rolls a
 * trial back, so a line torn by a power cut is skipped when read.
 */
final class OtaHistory {
    static final String FILE = "history";
    private static final int KEEP = 200;

    record Entry(Instant time, long release, String outcome, String detail) {
    }

    private final Path file;

    OtaHistory(Path directory) {
        this.file = directory.resolve(FILE);
    }

    synchronized List<Entry> read() throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return entries;
        }
        for (String line : lines) {
            String[] parts = line.split("\t", 4);
            if (parts.length != 4) {
                continue;
            }
            try {
                entries.add(new Entry(Instant.parse(parts[0]), Long.parseLong(parts[1]), parts[2], parts[3]));
            } catch (RuntimeException e) {
                // A line torn by a crash of the launcher's append.
            }
        }
        return entries;
    }

    synchronized void record(long release, String outcome, String detail) throws IOException {
        List<Entry> entries = read();
        entries.add(new Entry(Instant.now(), release, outcome, detail.replace('\t', ' ').replace('\n', ' ')));
        StringBuilder text = new StringBuilder();
        for (Entry e : entries.subList(Math.max(0, entries.size() - KEEP), entries.size())) {
            text.append(e.time()).append('\t').append(e.release()).append('\t').append(e.outcome()).append('\t')
                    .append(e.detail()).append('\n');
        }
        DurableFiles.writeAtomically(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
