package io.patu.ota.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/** Where releases come from: a directory (a USB stick, an NFS mount) or a static web server. */
interface ReleaseSource extends AutoCloseable {
    /** An open file of the release; {@code offset} is where its bytes start (0 when a resume was not honoured). */
    record Opened(InputStream in, long offset) {
    }

    /** The file {@code name}, from byte {@code offset} on where the source can; at most its first bytes otherwise. */
    Opened open(String name, long offset) throws IOException;

    String describe();

    @Override
    default void close() {
    }

    static ReleaseSource of(String location, Duration timeout) {
        if (location.startsWith("http://") || location.startsWith("https://")) {
            return new HttpSource(URI.create(location.endsWith("/") ? location : location + "/"), timeout);
        }
        if (location.isBlank()) {
            throw new IllegalArgumentException("no release source is configured (io.patu.ota source)");
        }
        return new DirectorySource(Path.of(location));
    }
}
