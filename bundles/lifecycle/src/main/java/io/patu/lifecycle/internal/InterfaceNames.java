package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import io.patu.api.PodId;

/** Rules for Linux interface names, and the name of a pod's host-side veth. */
final class InterfaceNames {
    private static final int MAX_LENGTH = 15;

    private InterfaceNames() {
    }

    /** Why a name is not a valid interface name (CNI spec and kernel rules), or null if it is. */
    static String problem(String name) {
        if (name.isEmpty()) {
            return "it is empty";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_LENGTH) {
            return "it is longer than " + MAX_LENGTH + " bytes";
        }
        if (name.equals(".") || name.equals("..")) {
            return "'.' and '..' are not interface names";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c) || c < 0x20 || c == 0x7f) {
                return "it must not contain '/', ':', whitespace or control characters";
            }
        }
        return null;
    }

    /**
     * The host-side veth of an attachment: derived from the attachment alone, so DEL finds it even when
     * the agent lost its registry, and short enough for the kernel's 15 bytes.
     */
    static String hostVeth(PodId id) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] digest = sha.digest((id.containerId() + "/" + id.ifName()).getBytes(StandardCharsets.UTF_8));
            return "patu" + HexFormat.of().formatHex(digest, 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
