package io.patu.ota.internal;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Brings a verified release's artifacts into the bundle store: each is streamed into {@code staging/},
 * hashed and counted as it arrives (a byte more than the signed size stops it), checked against the signed
 * manifest and its own bundle manifest, made durable, and only then renamed into {@code store/}. A failure
 * at any point leaves no file behind; a crash leaves at most a staging file, which the next start removes.
 */
final class ArtifactStager {
    static final String STAGING = "staging";
    static final String STORE = "store";
    /** Kept free beyond the artifacts themselves, so staging never fills the disk the agent's state lives on. */
    static final long RESERVE_BYTES = 1 << 20;
    private static final int MAX_SMALL_FILE = 1 << 20;

    /** Bounded retries of a source that fails on the way: {@code attempts} tries, the wait doubling from {@code firstWait}. */
    record Retry(int attempts, Duration firstWait) {
        Duration waitBefore(int attempt) {
            return firstWait.multipliedBy(1L << Math.min(attempt - 1, 10));
        }
    }

    private final Path staging;
    private final Path store;
    private final Retry retry;

    ArtifactStager(Path otaDirectory, Retry retry) {
        this.staging = otaDirectory.resolve(STAGING);
        this.store = otaDirectory.resolve(STORE);
        this.retry = retry;
    }

    Path store() {
        return store;
    }

    /** Whatever a crash left in staging; called at start, before any update. */
    void removeStaleStaging() throws IOException {
        if (!Files.isDirectory(staging)) {
            return;
        }
        try (Stream<Path> files = Files.list(staging)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** Every stored jar the state does not name: what a crash between staging and the state write left. */
    void removeUnreferenced(OtaState state) throws IOException {
        if (!Files.isDirectory(store)) {
            return;
        }
        Set<String> referenced = new HashSet<>();
        referenced.addAll(state.current().values());
        referenced.addAll(state.previous().values());
        referenced.addAll(state.candidates().values());
        try (Stream<Path> jars = Files.list(store)) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                if (!referenced.contains(jar.toString())) {
                    Files.deleteIfExists(jar);
                }
            }
        }
    }

    /** A small file of the release (manifest, signatures), whole, in memory; nothing is written. */
    byte[] fetchSmall(ReleaseSource source, String name) throws IOException, ReleaseRefusedException {
        return withRetries(source, name, () -> {
            try (InputStream in = source.open(name, 0).in()) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                    if (out.size() > MAX_SMALL_FILE) {
                        throw new ReleaseRefusedException(name + " is larger than " + MAX_SMALL_FILE + " bytes");
                    }
                }
                return out.toByteArray();
            }
        });
    }

    /** Refuses a release the store's file system cannot hold with room to spare, before a byte is written. */
    void requireSpace(ReleaseManifest release) throws IOException, ReleaseRefusedException {
        Files.createDirectories(staging);
        Files.createDirectories(store);
        long needed = release.artifacts().stream().mapToLong(Artifact::size).sum() + RESERVE_BYTES;
        long usable = Files.getFileStore(staging).getUsableSpace();
        if (usable < needed) {
            throw new ReleaseRefusedException("not enough free space for release " + release.sequence() + " in "
                    + store.getParent() + ": " + usable + " bytes usable, " + needed + " needed");
        }
    }

    /**
     * The artifact, verified, in the store as {@code SLOT-VERSION-SHA.jar} (the launcher and the next start
     * find the bundle's slot from that name); the staging file is gone.
     */
    Path stage(ReleaseSource source, Artifact artifact, String slot) throws IOException, ReleaseRefusedException {
        Path part = staging.resolve(artifact.file() + ".part");
        try {
            byte[] digest = download(source, artifact, part);
            if (!MessageDigest.isEqual(digest, artifact.digest())) {
                throw new ReleaseRefusedException(artifact.file() + ": sha256 " + HexFormat.of().formatHex(digest)
                        + " is not the signed " + artifact.sha256());
            }
            JarIdentity identity;
            try {
                identity = JarIdentity.of(part);
            } catch (IOException e) {
                throw new ReleaseRefusedException(artifact.file() + ": " + e.getMessage());
            }
            if (!identity.symbolicName().equals(artifact.bundle()) || !identity.version().equals(artifact.version())) {
                throw new ReleaseRefusedException(artifact.file() + " is bundle " + identity.symbolicName() + " "
                        + identity.version() + ", the manifest says " + artifact.bundle() + " " + artifact.version());
            }
            String slotName = slot + "-" + artifact.version() + "-" + artifact.sha256().substring(0, 12) + ".jar";
            Path target = store.resolve(slotName);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(store, StandardOpenOption.READ)) {
                dir.force(true);
            }
            return target;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private byte[] download(ReleaseSource source, Artifact artifact, Path part) throws IOException, ReleaseRefusedException {
        MessageDigest sha256 = sha256();
        long[] have = {0};
        Files.deleteIfExists(part);
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            withRetries(source, artifact.file(), () -> {
                ReleaseSource.Opened opened = source.open(artifact.file(), have[0]);
                try (InputStream in = opened.in()) {
                    if (opened.offset() != have[0]) {
                        // The source starts over: so does the digest.
                        out.truncate(0).position(0);
                        sha256.reset();
                        have[0] = 0;
                    }
                    byte[] buffer = new byte[64 * 1024];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        if (have[0] + n > artifact.size()) {
                            throw new ReleaseRefusedException(artifact.file() + " is longer than the signed " + artifact.size() + " bytes");
                        }
                        sha256.update(buffer, 0, n);
                        ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                        while (chunk.hasRemaining()) {
                            out.write(chunk);
                        }
                        have[0] += n;
                    }
                }
                if (have[0] < artifact.size()) {
                    throw new ShortRead(have[0]);
                }
                return null;
            });
            out.force(true);
        }
        return sha256.digest();
    }

    /** The source ended early; worth a retry (a broken connection) until a resume brings nothing more. */
    private static final class ShortRead extends IOException {
        private static final long serialVersionUID = 1L;
        final long length;

        ShortRead(long length) {
            super("ended after " + length + " bytes");
            this.length = length;
        }
    }

    interface Attempt<T> {
        T run() throws IOException, ReleaseRefusedException;
    }

    private <T> T withRetries(ReleaseSource source, String name, Attempt<T> attempt) throws IOException, ReleaseRefusedException {
        long lastShort = -1;
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (FileNotFoundException | java.nio.file.NoSuchFileException e) {
                throw new ReleaseRefusedException(name + " is not in the release at " + source.describe());
            } catch (ShortRead e) {
                if (e.length == lastShort || i >= retry.attempts()) {
                    throw new ReleaseRefusedException(name + " is shorter than its signed size: " + e.getMessage());
                }
                lastShort = e.length;
            } catch (IOException e) {
                if (isDiskFull(e) || i >= retry.attempts()) {
                    throw e;
                }
            }
            try {
                Thread.sleep(retry.waitBefore(i));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching " + name);
            }
        }
    }

    static boolean isDiskFull(IOException e) {
        return e.getMessage() != null && e.getMessage().contains("No space left on device");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
