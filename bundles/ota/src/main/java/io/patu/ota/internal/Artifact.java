package io.patu.ota.internal;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * One bundle jar of a release, as the signed manifest names it. Every field is covered by the signature, so
 * a jar is used only if its bytes hash to {@code sha256}, it is exactly {@code size} bytes long, and its own
 * manifest says it is {@code bundle} at {@code version}.
 */
public record Artifact(String bundle, String version, String file, String sha256, long size) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.@-]*\\.jar");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public Artifact {
        require(bundle != null && NAME.matcher(bundle).matches(), "bundle symbolic name '" + bundle + "' is not valid");
        require(version != null && NAME.matcher(version).matches(), "version '" + version + "' of " + bundle + " is not valid");
        // The file name becomes a path on the device and a URL path: no separators, no '..'.
        require(file != null && FILE.matcher(file).matches() && !file.contains(".."),
                "file name '" + file + "' of " + bundle + " must be a plain NAME.jar");
        require(sha256 != null && SHA256.matcher(sha256).matches(), "sha256 of " + bundle + " must be 64 lower-case hex digits");
        require(size > 0, "size of " + bundle + " must be positive");
    }

    /** The digest as bytes, for a constant-time comparison. */
    byte[] digest() {
        return HexFormat.of().parseHex(sha256);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
