package io.patu.ota.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Real bundle jars, real Ed25519 keys and releases packed the way 'patu ota pack' packs them. */
final class TestReleases {
    private TestReleases() {
    }

    /** A small bundle jar: a manifest saying who it is, and a payload that makes each build's bytes differ. */
    static Path bundleJar(Path directory, String symbolicName, String version, String payload) throws IOException {
        return bundleJarWithPayload(directory, symbolicName, version, payload.repeat(200));
    }

    /** As {@link #bundleJar(Path, String, String, String)}, with exactly this payload. */
    static Path bundleJarWithPayload(Path directory, String symbolicName, String version, String payload) throws IOException {
        Files.createDirectories(directory);
        Path jar = directory.resolve(symbolicName + "-" + version + "-" + Math.abs(payload.hashCode()) + ".jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        manifest.getMainAttributes().putValue("Bundle-SymbolicName", symbolicName + ";singleton:=true");
        manifest.getMainAttributes().putValue("Bundle-Version", version);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out, manifest)) {
            jarOut.putNextEntry(new JarEntry("payload.txt"));
            jarOut.write(payload.getBytes());
            jarOut.closeEntry();
        }
        return jar;
    }

    static Map<String, PublicKey> trust(KeyPair... keys) {
        Map<String, PublicKey> trusted = new LinkedHashMap<>();
        for (KeyPair key : keys) {
            // Through the text form the device's configuration holds.
            PublicKey parsed = SigningKeys.parsePublic(SigningKeys.publicText(key.getPublic()));
            trusted.put(SigningKeys.keyId(parsed), parsed);
        }
        return trusted;
    }

    static ReleaseManifest pack(Path out, long sequence, Instant expires, List<Path> jars, KeyPair... keys)
            throws IOException, GeneralSecurityException {
        return ReleasePacker.pack(jars, List.of(keys), sequence, expires, out);
    }

    /** Replaces the release's manifest with {@code release} and signs it anew with {@code key}: a validly signed lie. */
    static void resign(Path directory, ReleaseManifest release, KeyPair key) throws IOException, GeneralSecurityException {
        byte[] manifest = release.toJson();
        Files.write(directory.resolve(ReleaseManifest.FILE), manifest);
        Files.writeString(directory.resolve(ReleaseManifest.SIGNATURE_FILE),
                SignedManifest.signatureLine(manifest, key.getPrivate(), key.getPublic()));
    }
}
