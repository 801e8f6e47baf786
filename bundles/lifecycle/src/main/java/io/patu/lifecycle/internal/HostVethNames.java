package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import io.patu.api.PodId;

/** The name of a pod's host-side veth. */
final class HostVethNames {
    private HostVethNames() {
    }

    /** True for a name of the form {@link #of} produces ("patu" and ten hex digits). */
    static boolean looksLikeOne(String name) {
        return name.matches("patu[0-9a-f]{10}");
    }

    /**
     * The host-side veth of an attachment: derived from the attachment alone, so DEL finds it even when
     * the agent lost its registry, and short enough for the kernel's 15 bytes.
     */
    static String of(PodId id) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] digest = sha.digest((id.containerId() + "/" + id.ifName()).getBytes(StandardCharsets.UTF_8));
            return "patu" + HexFormat.of().formatHex(digest, 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
