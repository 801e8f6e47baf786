package io.patu.ota.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The manifest's bytes and the signature file beside it: one line per signature, {@code KEYID BASE64}. Several
 * lines let a release be signed by an old and a new key while devices rotate trust. Verification comes
 * first and covers the exact bytes; only then is the JSON parsed and its sequence and expiry judged.
 */
public final class SignedManifest {
    private SignedManifest() {
    }

    /** One signature line for {@code manifest}, made with {@code key} (whose public half is {@code publicKey}). */
    public static String signatureLine(byte[] manifest, PrivateKey key, PublicKey publicKey) throws GeneralSecurityException {
        Signature signer = Signature.getInstance(SigningKeys.ALGORITHM);
        signer.initSign(key);
        signer.update(manifest);
        return SigningKeys.keyId(publicKey) + " " + Base64.getEncoder().encodeToString(signer.sign()) + "\n";
    }

    /**
     * The release, if a trusted key signed these bytes, it has not expired, and it is newer than the last
     * committed release; otherwise why not.
     *
     * @param trusted key id to public key
     * @param committedSequence the sequence of the release the device runs (0 for the shipped one)
     */
    public static ReleaseManifest verify(byte[] manifest, byte[] signatures, Map<String, PublicKey> trusted,
            Instant now, long committedSequence) throws ReleaseRefusedException {
        if (trusted.isEmpty()) {
            throw new ReleaseRefusedException("no trusted key is configured (io.patu.ota trustedKeys)");
        }
        List<String> unknown = new ArrayList<>();
        boolean verified = false;
        for (String line : new String(signatures, StandardCharsets.US_ASCII).split("\n")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length != 2) {
                continue;
            }
            PublicKey key = trusted.get(parts[0]);
            if (key == null) {
                unknown.add(parts[0]);
                continue;
            }
            if (valid(manifest, parts[1], key)) {
                verified = true;
                break;
            }
            throw new ReleaseRefusedException("the signature of key " + parts[0] + " does not match the manifest");
        }
        if (!verified) {
            throw new ReleaseRefusedException(unknown.isEmpty() ? "the manifest carries no signature"
                    : "the manifest is signed by no trusted key (signed by " + String.join(", ", unknown) + ")");
        }
        ReleaseManifest release = ReleaseManifest.parse(manifest);
        if (!now.isBefore(release.expires())) {
            throw new ReleaseRefusedException("release " + release.sequence() + " expired at " + release.expires());
        }
        if (release.sequence() <= committedSequence) {
            throw new ReleaseRefusedException.NotNewer("release " + release.sequence() + " is not newer than release "
                    + committedSequence + " already installed (no downgrade or replay)");
        }
        return release;
    }

    private static boolean valid(byte[] manifest, String base64, PublicKey key) {
        try {
            Signature verifier = Signature.getInstance(SigningKeys.ALGORITHM);
            verifier.initVerify(key);
            verifier.update(manifest);
            return verifier.verify(Base64.getDecoder().decode(base64));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
