package io.patu.kernel.netlink;

import java.nio.charset.StandardCharsets;

/** The kernel's rules for interface names (dev_valid_name), checked before anything is sent. */
public final class InterfaceNames {
    /** IFNAMSIZ - 1: the name and its NUL must fit 16 bytes. */
    public static final int MAX_BYTES = 15;

    private InterfaceNames() {
    }

    /** What makes {@code name} unusable as an interface name, or null if it is valid. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "it is empty";
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            return "it is " + bytes + " bytes long; the kernel allows at most " + MAX_BYTES;
        }
        if (name.equals(".") || name.equals("..")) {
            return "'.' and '..' are not interface names";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            // '%' would make the kernel treat the name as a template ("eth%d") and pick a name of its own.
            if (c == '/' || c == ':' || c == '%' || c < 0x20 || c == 0x7f || Character.isWhitespace(c)) {
                return "it contains a forbidden character (/, :, %, whitespace or a control character) at position " + i;
            }
        }
        return null;
    }

    /** Returns {@code name} if valid, else throws IllegalArgumentException saying why. */
    public static String requireValid(String name) {
        String problem = problem(name);
        if (problem != null) {
            throw new IllegalArgumentException("interface name '" + String.valueOf(name).replace("\0", "\\0")
                    + "' is invalid: " + problem);
        }
        return name;
    }
}
