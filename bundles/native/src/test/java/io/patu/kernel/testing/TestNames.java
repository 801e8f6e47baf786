package io.patu.kernel.testing;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Unique names so that tests never touch, or collide with, anything they did not create. */
public final class TestNames {
    private static final SecureRandom RANDOM = new SecureRandom();

    private TestNames() {
    }

    /** {@code prefix} followed by {@code hexDigits} random hex digits. */
    public static String unique(String prefix, int hexDigits) {
        byte[] bytes = new byte[(hexDigits + 1) / 2];
        RANDOM.nextBytes(bytes);
        return prefix + HexFormat.of().formatHex(bytes).substring(0, hexDigits);
    }
}
