package io.patu.api;

/**
 * A failure that a CNI caller should see: it carries the spec's error code, a message saying what was
 * wrong, and optional details.
 */
public class PatuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String details;

    public PatuException(int code, String message) {
        this(code, message, null, null);
    }

    public PatuException(int code, String message, String details, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.details = details;
    }

    /** A {@link CniError} code. */
    public int code() {
        return code;
    }

    /** Extra text for the CNI error's {@code details} field, or null. */
    public String details() {
        return details;
    }
}
