package io.patu.ota.internal;

/** A release (or one of its artifacts) that must not be used; the message says why, for the operator. */
public class ReleaseRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReleaseRefusedException(String message) {
        super(message);
    }

    /** The source offers nothing newer than what the device runs: the steady state of a poll, not an attack. */
    public static final class NotNewer extends ReleaseRefusedException {
        private static final long serialVersionUID = 1L;

        public NotNewer(String message) {
            super(message);
        }
    }
}
