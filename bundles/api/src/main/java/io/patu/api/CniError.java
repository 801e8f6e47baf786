package io.patu.api;

/** Error codes of the CNI specification (1.1.0, "Error" section). */
public final class CniError {
    public static final int INCOMPATIBLE_VERSION = 1;
    public static final int UNSUPPORTED_FIELD = 2;
    public static final int UNKNOWN_CONTAINER = 3;
    public static final int INVALID_ENVIRONMENT = 4;
    public static final int IO_FAILURE = 5;
    public static final int DECODE_FAILURE = 6;
    public static final int INVALID_NETWORK_CONFIG = 7;
    public static final int TRY_AGAIN = 11;
    public static final int NOT_AVAILABLE = 50;
    public static final int LIMITED_CONNECTIVITY = 51;

    // Patu's own codes: the spec leaves 100 and up to plugins.

    /** A kernel operation failed, or the kernel no longer holds what Patu set up. */
    public static final int KERNEL_FAILURE = 100;
    /** CHECK: the prevResult is not what Patu gave for this attachment. */
    public static final int RESULT_MISMATCH = 101;
    /** The caller is not root: only uid 0 may use the agent's socket. */
    public static final int NOT_PERMITTED = 102;

    private CniError() {
    }
}
