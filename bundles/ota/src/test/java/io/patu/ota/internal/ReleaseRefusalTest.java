package io.patu.ota.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a release can be wrong is refused, and refused before anything is written to the bundle store:
 * after each refusal the store and the staging directory are empty. Real keys, real jars, real files.
 */
class ReleaseRefusalTest {
    private static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");
    private static final Instant LATER = NOW.plus(Duration.ofDays(30));

    @TempDir
    Path tmp;
    private KeyPair key;
    private Path release;
    private Path device;
    private ReleaseFetcher fetcher;

    @BeforeEach
    void setUp() throws Exception {
        key = SigningKeys.generate();
        release = tmp.resolve("release");
        device = tmp.resolve("device");
        fetcher = fetcher(TestReleases.trust(key));
    }

    private ReleaseFetcher fetcher(Map<String, java.security.PublicKey> trusted) {
        return new ReleaseFetcher(new ArtifactStager(device, new ArtifactStager.Retry(3, Duration.ofMillis(1))),
                trusted, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private ReleaseManifest packIpam(Path out, long sequence, Instant expires, String payload, KeyPair... keys) throws Exception {
        Path jar = TestReleases.bundleJar(tmp.resolve("build"), "io.patu.ipam", "0.2.0", payload);
        return TestReleases.pack(out, sequence, expires, List.of(jar), keys);
    }

    /** Verify, then stage: what the device does; the slot of io.patu.ipam is 'ipam'. */
    private Map<String, Path> install(Path source, long committed) throws Exception {
        try (ReleaseSource dir = new DirectorySource(source)) {
            ReleaseManifest manifest = fetcher.verified(dir, committed);
            Map<Artifact, String> slots = new LinkedHashMap<>();
            manifest.artifacts().forEach(a -> slots.put(a, a.bundle().replace("io.patu.", "")));
            return fetcher.stageAll(dir, manifest, slots);
        }
    }

    private ReleaseRefusedException refused(Path source, long committed) {
        ReleaseRefusedException e = assertThrows(ReleaseRefusedException.class, () -> install(source, committed));
        assertNothingWritten();
        return e;
    }

    private void assertNothingWritten() {
        assertEquals(List.of(), files(device.resolve(ArtifactStager.STORE)), "bundle store");
        assertEquals(List.of(), files(device.resolve(ArtifactStager.STAGING)), "staging");
    }

    private static List<Path> files(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path artifactFile(ReleaseManifest manifest) {
        return release.resolve(manifest.artifacts().get(0).file());
    }

    @Test
    void aValidReleaseIsStagedUnderItsSlot() throws Exception {
        ReleaseManifest manifest = packIpam(release, 5, LATER, "good", key);
        Map<String, Path> staged = install(release, 4);
        Path jar = staged.get("ipam");
        assertTrue(jar.getFileName().toString().startsWith("ipam-0.2.0-" + manifest.artifacts().get(0).sha256().substring(0, 12)), jar.toString());
        assertEquals(Files.size(artifactFile(manifest)), Files.size(jar));
        assertEquals(List.of(), files(device.resolve(ArtifactStager.STAGING)));
    }

    @Test
    void flippedByteIsRefused() throws Exception {
        ReleaseManifest manifest = packIpam(release, 5, LATER, "good", key);
        try (RandomAccessFile file = new RandomAccessFile(artifactFile(manifest).toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0x01);
        }
        assertTrue(refused(release, 0).getMessage().contains("sha256"));
    }

    @Test
    void truncatedArtifactIsRefused() throws Exception {
        ReleaseManifest manifest = packIpam(release, 5, LATER, "good", key);
        try (RandomAccessFile file = new RandomAccessFile(artifactFile(manifest).toFile(), "rw")) {
            file.setLength(file.length() - 100);
        }
        assertTrue(refused(release, 0).getMessage().contains("shorter than its signed size"));
    }

    @Test
    void wrongSignedSizeIsRefusedEitherWay() throws Exception {
        ReleaseManifest manifest = packIpam(release, 5, LATER, "good", key);
        Artifact a = manifest.artifacts().get(0);
        TestReleases.resign(release, new ReleaseManifest(5, LATER,
                List.of(new Artifact(a.bundle(), a.version(), a.file(), a.sha256(), a.size() - 1))), key);
        assertTrue(refused(release, 0).getMessage().contains("longer than the signed"));
        TestReleases.resign(release, new ReleaseManifest(5, LATER,
                List.of(new Artifact(a.bundle(), a.version(), a.file(), a.sha256(), a.size() + 1))), key);
        assertTrue(refused(release, 0).getMessage().contains("shorter than its signed size"));
    }

    @Test
    void unknownKeyIsRefused() throws Exception {
        KeyPair stranger = SigningKeys.generate();
        packIpam(release, 5, LATER, "good", stranger);
        ReleaseRefusedException e = refused(release, 0);
        assertTrue(e.getMessage().contains("signed by no trusted key (signed by " + SigningKeys.keyId(stranger.getPublic())), e.getMessage());
    }

    @Test
    void aSignatureOfTrustedKeyIdOverOtherBytesIsRefused() throws Exception {
        packIpam(release, 5, LATER, "good", key);
        // The signature line claims the trusted key, but its bytes come from another key.
        KeyPair stranger = SigningKeys.generate();
        byte[] manifest = Files.readAllBytes(release.resolve(ReleaseManifest.FILE));
        String forged = SignedManifest.signatureLine(manifest, stranger.getPrivate(), key.getPublic());
        Files.writeString(release.resolve(ReleaseManifest.SIGNATURE_FILE), forged);
        assertTrue(refused(release, 0).getMessage().contains("does not match"));
    }

    @Test
    void mixAndMatchOfTwoValidReleasesIsRefused() throws Exception {
        Path other = tmp.resolve("other");
        ReleaseManifest a = packIpam(release, 5, LATER, "release-a", key);
        ReleaseManifest b = packIpam(other, 6, LATER, "release-b", key);
        // B's validly signed jar under A's validly signed manifest: the same name, other bytes.
        Files.copy(other.resolve(b.artifacts().get(0).file()), artifactFile(a), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(refused(release, 0).getMessage().contains("sha256"));
        // A's manifest with B's signature file.
        packIpam(release, 5, LATER, "release-a", key);
        Files.copy(other.resolve(ReleaseManifest.SIGNATURE_FILE), release.resolve(ReleaseManifest.SIGNATURE_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(refused(release, 0).getMessage().contains("does not match"));
    }

    @Test
    void expiredManifestIsRefused() throws Exception {
        packIpam(release, 5, NOW.minusSeconds(1), "good", key);
        assertTrue(refused(release, 0).getMessage().contains("expired"));
    }

    @Test
    void olderOrSameSequenceIsRefused() throws Exception {
        packIpam(release, 5, LATER, "good", key);
        assertInstanceOf(ReleaseRefusedException.NotNewer.class, refused(release, 5));
        assertInstanceOf(ReleaseRefusedException.NotNewer.class, refused(release, 9));
    }

    @Test
    void wrongBundleNameIsRefused() throws Exception {
        // A validly signed manifest claiming io.patu.ipam for a jar that is another bundle.
        Path jar = TestReleases.bundleJar(tmp.resolve("build"), "io.patu.lifecycle", "0.2.0", "x");
        ReleaseManifest packed = TestReleases.pack(release, 5, LATER, List.of(jar), key);
        Artifact a = packed.artifacts().get(0);
        TestReleases.resign(release, new ReleaseManifest(5, LATER,
                List.of(new Artifact("io.patu.ipam", a.version(), a.file(), a.sha256(), a.size()))), key);
        assertTrue(refused(release, 0).getMessage().contains("is bundle io.patu.lifecycle"));
    }

    @Test
    void aKeyAmongSeveralTrustedOnesVerifiesSoKeysRotate() throws Exception {
        KeyPair next = SigningKeys.generate();
        fetcher = fetcher(TestReleases.trust(key, next));
        packIpam(release, 5, LATER, "good", next);
        assertEquals(1, install(release, 0).size());
    }

    @Test
    void aPartlyStagedReleaseLeavesNothingWhenItsSecondArtifactIsBad() throws Exception {
        List<Path> jars = new ArrayList<>();
        jars.add(TestReleases.bundleJar(tmp.resolve("build"), "io.patu.ipam", "0.2.0", "one"));
        jars.add(TestReleases.bundleJar(tmp.resolve("build"), "io.patu.lifecycle", "0.2.0", "two"));
        ReleaseManifest manifest = TestReleases.pack(release, 5, LATER, jars, key);
        Files.write(release.resolve(manifest.artifacts().get(1).file()), new byte[] {1, 2, 3},
                java.nio.file.StandardOpenOption.APPEND);
        refused(release, 0);
    }

    @Test
    void untrustedDeviceRefusesEverything() throws Exception {
        fetcher = fetcher(Map.of());
        packIpam(release, 5, LATER, "good", key);
        assertTrue(refused(release, 0).getMessage().contains("no trusted key is configured"));
    }
}
