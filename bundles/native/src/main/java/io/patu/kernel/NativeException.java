package io.patu.kernel;

/**
 * The one exception every native failure in Patu becomes: a libc call, a libbpf call or a netlink
 * request that the kernel refused. Callers branch on {@link #errno()} (e.g. {@link Errno#EEXIST}),
 * never on the message text.
 */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final int errno;

    /**
     * @param operation what was attempted, e.g. {@code bpf_prog_attach(sk_msg_verdict)}
     * @param errno     the positive errno the kernel or library reported (0 if none applies)
     * @param detail    extra context, appended to the message; may be {@code null}
     */
    public NativeException(String operation, int errno, String detail) {
        super(message(operation, errno, detail));
        this.operation = operation;
        this.errno = errno;
    }

    private static String message(String operation, int errno, String detail) {
        StringBuilder text = new StringBuilder(operation).append(" failed");
        if (errno != 0) {
            // Libraries without errno (libnftables) report only their own text, in detail.
            text.append(": ").append(Errno.describe(errno)).append(" (errno ").append(errno).append(')');
        }
        if (detail != null && !detail.isBlank()) {
            text.append(": ").append(detail);
        }
        return text.toString();
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }

    /** The name of the failed operation, as used in the message. */
    public String operation() {
        return operation;
    }
}
