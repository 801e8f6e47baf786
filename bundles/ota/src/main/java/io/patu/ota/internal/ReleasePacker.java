package io.patu.ota.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The integrator's side: bundle jars in, a release directory out (the jars, {@code manifest.json} and
 * {@code manifest.sig}), ready to copy to a USB stick or serve from any static web server.
 */
public final class ReleasePacker {
    private ReleasePacker() {
    }

    public static ReleaseManifest pack(List<Path> jars, List<KeyPair> keys, long sequence, Instant expires, Path out)
            throws IOException, GeneralSecurityException {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("a release needs at least one signing key");
        }
        Files.createDirectories(out);
        List<Artifact> artifacts = new ArrayList<>();
        for (Path jar : jars) {
            JarIdentity identity = JarIdentity.of(jar);
            String file = identity.symbolicName() + "-" + identity.version() + ".jar";
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            Path target = out.resolve(file);
            try (InputStream in = new DigestInputStream(Files.newInputStream(jar), sha256)) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            artifacts.add(new Artifact(identity.symbolicName(), identity.version(), file,
                    HexFormat.of().formatHex(sha256.digest()), Files.size(target)));
        }
        ReleaseManifest release = new ReleaseManifest(sequence, expires, artifacts);
        byte[] manifest = release.toJson();
        StringBuilder signatures = new StringBuilder();
        for (KeyPair key : keys) {
            signatures.append(SignedManifest.signatureLine(manifest, key.getPrivate(), key.getPublic()));
        }
        // The signature file last: a directory read while being packed has no valid signature yet.
        Files.write(out.resolve(ReleaseManifest.FILE), manifest);
        Files.writeString(out.resolve(ReleaseManifest.SIGNATURE_FILE), signatures);
        return release;
    }
}
