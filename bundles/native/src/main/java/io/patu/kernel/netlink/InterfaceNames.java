package io.patu.kernel.netlink;

import java.nio.charset.StandardCharsets;

/** The kernel's rules for interface names (dev_valid_name), checked before anything is sent. */
final class InterfaceNames {
    /** IFNAMSIZ - 1: the name and its NUL must fit 16 bytes. */
    static final int MAX_BYTES = 15;

    private InterfaceNames() {
    }

    static String requireValid(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("interface name must not be empty");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException(
                    "interface name '" + name + "' is " + bytes + " bytes long; the kernel allows at most " + MAX_BYTES);
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("interface name must not be '.' or '..'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || c == 0 || Character.isWhitespace(c)) {
                throw new IllegalArgumentException("interface name '" + name.replace("\0", "\\0")
                        + "' contains a forbidden character (/, :, NUL or whitespace) at position " + i);
            }
        }
        return name;
    }
}
