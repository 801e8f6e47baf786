package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A release from its source to the bundle store, in the order that keeps a bad one out: the manifest's
 * signature, expiry and sequence first (nothing is written before), then free space, then each artifact
 * streamed, hashed, sized and identified. If any artifact fails, the ones already stored are removed again.
 */
final class ReleaseFetcher {
    private final ArtifactStager stager;
    private final Map<String, PublicKey> trusted;
    private final Clock clock;

    ReleaseFetcher(ArtifactStager stager, Map<String, PublicKey> trusted, Clock clock) {
        this.stager = stager;
        this.trusted = Map.copyOf(trusted);
        this.clock = clock;
    }

    /** The source's release, if trusted, current and newer than {@code newerThan}. */
    ReleaseManifest verified(ReleaseSource source, long newerThan) throws IOException, ReleaseRefusedException {
        byte[] manifest = stager.fetchSmall(source, ReleaseManifest.FILE);
        byte[] signatures = stager.fetchSmall(source, ReleaseManifest.SIGNATURE_FILE);
        return SignedManifest.verify(manifest, signatures, trusted, clock.instant(), newerThan);
    }

    /** Slot to stored jar, for every artifact (whose slot {@code slots} gives), or nothing at all. */
    Map<String, Path> stageAll(ReleaseSource source, ReleaseManifest release, Map<Artifact, String> slots)
            throws IOException, ReleaseRefusedException {
        Map<String, Path> staged = new LinkedHashMap<>();
        boolean complete = false;
        try {
            stager.requireSpace(release);
            for (Artifact artifact : release.artifacts()) {
                staged.put(slots.get(artifact), stager.stage(source, artifact, slots.get(artifact)));
            }
            complete = true;
            return staged;
        } finally {
            if (!complete) {
                for (Path jar : staged.values()) {
                    Files.deleteIfExists(jar);
                }
            }
        }
    }
}
