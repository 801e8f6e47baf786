package io.patu.ota.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;

/**
 * A test hook, inert unless the agent runs with {@code -Dpatu.ota.haltAt=STEP}: the JVM ends at that step of an
 * update with {@link Runtime#halt}, as kill -9 or a power cut would end it there (no shutdown hook, no
 * deactivation), so a test can prove what the next start makes of that exact instant. Steps:
 * <ul>
 *   <li>{@code staged}: the release's jars are in the store, the state file does not name them yet;</li>
 *   <li>{@code stopped}: a bundle on trial is stopped, not yet updated;</li>
 *   <li>{@code updating}: inside {@code Bundle.update}, half of the new jar read by the framework;</li>
 *   <li>{@code updated}: updated, before the refresh and the start of the new revision.</li>
 * </ul>
 */
final class HaltPoints {
    static final String PROPERTY = "patu.ota.haltAt";
    /** The status a JVM halted here exits with: that of a process killed by SIGKILL. */
    static final int STATUS = 137;
    private static final Logger LOG = Logger.getLogger(HaltPoints.class.getName());

    private final String step;

    HaltPoints(BundleContext context) {
        String value = context.getProperty(PROPERTY);
        this.step = value == null || value.isBlank() ? null : value.strip();
    }

    void reached(String name) {
        if (name.equals(step)) {
            LOG.severe("halting the JVM at OTA step '" + name + "' (" + PROPERTY + ", a test hook)");
            Runtime.getRuntime().halt(STATUS);
        }
    }

    /** {@code in}, which halts at step {@code updating} once half of its {@code size} bytes are read. */
    InputStream updating(InputStream in, long size) {
        if (!"updating".equals(step)) {
            return in;
        }
        return new FilterInputStream(in) {
            private long read;

            @Override
            public int read() throws IOException {
                int b = super.read();
                count(b < 0 ? 0 : 1);
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                count(Math.max(0, n));
                return n;
            }

            private void count(int n) {
                read += n;
                if (read >= size / 2) {
                    reached("updating");
                }
            }
        };
    }
}
