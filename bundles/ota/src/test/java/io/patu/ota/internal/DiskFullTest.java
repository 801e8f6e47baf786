package io.patu.ota.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.patu.kernel.testing.KernelTest;

/**
 * The disk filling up in the middle of a download (past the free-space check, as when something else
 * writes at the same time): the write fails with ENOSPC, and no partial file stays behind. A real tmpfs.
 */
@KernelTest
class DiskFullTest {
    @TempDir
    Path tmp;

    @Test
    void enospcInTheMiddleOfAnArtifactLeavesNothing() throws Exception {
        KeyPair key = SigningKeys.generate();
        // Incompressible enough to be larger than the file system once packed.
        StringBuilder payload = new StringBuilder();
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 40_000; i++) {
            payload.append(Long.toHexString(random.nextLong()));
        }
        Path jar = TestReleases.bundleJarWithPayload(tmp.resolve("build"), "io.patu.ipam", "0.2.0", payload.toString());
        ReleaseManifest release = TestReleases.pack(tmp.resolve("release"), 3, Instant.now().plus(Duration.ofDays(1)), List.of(jar), key);
        assertTrue(release.artifacts().get(0).size() > 256 * 1024, "artifact of " + release.artifacts().get(0).size() + " bytes");

        Path mount = tmp.resolve("small");
        Files.createDirectories(mount);
        run("mount", "-t", "tmpfs", "-o", "size=128k", "po-ota-diskfull", mount.toString());
        try {
            ArtifactStager stager = new ArtifactStager(mount, new ArtifactStager.Retry(3, Duration.ofMillis(1)));
            Files.createDirectories(mount.resolve(ArtifactStager.STAGING));
            Files.createDirectories(mount.resolve(ArtifactStager.STORE));
            try (ReleaseSource source = new DirectorySource(tmp.resolve("release"))) {
                // Straight to the write, past requireSpace: the space goes while the artifact streams in.
                IOException e = assertThrows(IOException.class, () -> stager.stage(source, release.artifacts().get(0), "ipam"));
                assertTrue(ArtifactStager.isDiskFull(e), e.toString());
                // And the check refuses it up front, as the device does before staging.
                assertThrows(ReleaseRefusedException.class, () -> stager.requireSpace(release));
            }
            assertEquals(List.of(), list(mount.resolve(ArtifactStager.STAGING)));
            assertEquals(List.of(), list(mount.resolve(ArtifactStager.STORE)));
        } finally {
            run("umount", mount.toString());
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }
}
