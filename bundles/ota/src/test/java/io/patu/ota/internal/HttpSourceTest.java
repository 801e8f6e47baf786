package io.patu.ota.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Releases fetched from a real nginx on loopback: whole, resumed with Range after a cut, and a dead server not hammered. */
class HttpSourceTest {
    @TempDir
    Path tmp;
    private Nginx nginx;
    private KeyPair key;
    private ReleaseManifest release;
    private Path device;

    @BeforeEach
    void serveARelease() throws Exception {
        key = SigningKeys.generate();
        Path jar = TestReleases.bundleJar(tmp.resolve("build"), "io.patu.ipam", "0.2.0", "over http, long enough to be cut ".repeat(50));
        release = TestReleases.pack(tmp.resolve("www/release"), 7, Instant.now().plus(Duration.ofDays(1)), List.of(jar), key);
        device = tmp.resolve("device");
        nginx = new Nginx(tmp.resolve("www"), Path.of("/tmp/po-nginx-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
    }

    @AfterEach
    void stopNginx() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
    }

    private ReleaseFetcher fetcher(ArtifactStager.Retry retry) {
        return new ReleaseFetcher(new ArtifactStager(device, retry), TestReleases.trust(key), Clock.systemUTC());
    }

    private Map<String, Path> install(ReleaseFetcher fetcher, ReleaseSource source) throws Exception {
        ReleaseManifest manifest = fetcher.verified(source, 0);
        Map<Artifact, String> slots = new LinkedHashMap<>();
        manifest.artifacts().forEach(a -> slots.put(a, "ipam"));
        return fetcher.stageAll(source, manifest, slots);
    }

    @Test
    void aReleaseIsFetchedVerifiedAndStagedOverHttp() throws Exception {
        try (ReleaseSource source = ReleaseSource.of(nginx.url("release"), Duration.ofSeconds(5))) {
            Path jar = install(fetcher(new ArtifactStager.Retry(3, Duration.ofMillis(10))), source).get("ipam");
            assertArrayEquals(Files.readAllBytes(tmp.resolve("www/release").resolve(release.artifacts().get(0).file())),
                    Files.readAllBytes(jar));
        }
    }

    @Test
    void aCutDownloadResumesWithRangeAndVerifies() throws Exception {
        Artifact artifact = release.artifacts().get(0);
        long cutAt = artifact.size() / 3;
        List<Long> offsets = new ArrayList<>();
        try (ReleaseSource http = ReleaseSource.of(nginx.url("release"), Duration.ofSeconds(5));
             ReleaseSource cutting = new CuttingSource(http, artifact.file(), cutAt, offsets)) {
            Path jar = install(fetcher(new ArtifactStager.Retry(3, Duration.ofMillis(10))), cutting).get("ipam");
            assertEquals(artifact.size(), Files.size(jar));
        }
        assertEquals(List.of(0L, cutAt), offsets, "the second request starts where the first was cut");
        String log = nginx.accessLog();
        assertTrue(log.contains("\" 206 "), "nginx answered the resume with 206 Partial Content:\n" + log);
    }

    @Test
    void aServerThatIsGoneIsTriedABoundedNumberOfTimesWithBackoff() throws Exception {
        int deadPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
        long start = System.nanoTime();
        try (ReleaseSource source = ReleaseSource.of("http://127.0.0.1:" + deadPort + "/release", Duration.ofSeconds(2))) {
            assertThrows(IOException.class, () -> install(fetcher(new ArtifactStager.Retry(4, Duration.ofMillis(100))), source));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        // 3 waits between 4 tries: 100 + 200 + 400 ms.
        assertTrue(millis >= 700 && millis < 5_000, "retries took " + millis + " ms");
        assertEquals(List.of(), Files.exists(device.resolve(ArtifactStager.STAGING))
                ? Files.list(device.resolve(ArtifactStager.STAGING)).toList() : List.of());
    }

    @Test
    void aMissingReleaseIsRefusedWithoutRetrying() throws Exception {
        try (ReleaseSource source = ReleaseSource.of(nginx.url("nothing-here"), Duration.ofSeconds(5))) {
            ReleaseRefusedException e = assertThrows(ReleaseRefusedException.class,
                    () -> install(fetcher(new ArtifactStager.Retry(4, Duration.ofSeconds(5))), source));
            assertTrue(e.getMessage().contains("is not in the release"), e.getMessage());
        }
    }

    /** The real source, with the first download of one file broken off after {@code cutAt} bytes, as a dropped link would. */
    private static final class CuttingSource implements ReleaseSource {
        private final ReleaseSource inner;
        private final String file;
        private final long cutAt;
        private final List<Long> offsets;

        CuttingSource(ReleaseSource inner, String file, long cutAt, List<Long> offsets) {
            this.inner = inner;
            this.file = file;
            this.cutAt = cutAt;
            this.offsets = offsets;
        }

        @Override
        public Opened open(String name, long offset) throws IOException {
            Opened opened = inner.open(name, offset);
            if (!name.equals(file)) {
                return opened;
            }
            offsets.add(opened.offset());
            if (offsets.size() > 1) {
                return opened;
            }
            return new Opened(new FilterInputStream(opened.in()) {
                private long read;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (read >= cutAt) {
                        throw new IOException("connection reset (cut by the test)");
                    }
                    int n = super.read(b, off, (int) Math.min(len, cutAt - read));
                    read += Math.max(n, 0);
                    return n;
                }
            }, opened.offset());
        }

        @Override
        public String describe() {
            return inner.describe();
        }
    }
}
