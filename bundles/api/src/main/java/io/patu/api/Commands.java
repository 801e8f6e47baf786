package io.patu.api;

/**
 * Names shared by the bundles that contribute operator commands and features. A command provider is any
 * service with the {@link #SCOPE_PROPERTY} and {@link #FUNCTION_PROPERTY} properties (the Gogo shell's
 * convention); a feature is a bundle whose manifest carries {@link #FEATURE_HEADER}.
 */
public final class Commands {
    /** Service property naming the command scope. */
    public static final String SCOPE_PROPERTY = "osgi.command.scope";
    /** Service property listing the command names (method names of the service object). */
    public static final String FUNCTION_PROPERTY = "osgi.command.function";
    /** The scope of every Patu command: {@code patu:status}, {@code patu:leases}, ... */
    public static final String SCOPE = "patu";
    /** Manifest header that makes a bundle a feature, with its short name: {@code Patu-Feature: sockmap}. */
    public static final String FEATURE_HEADER = "Patu-Feature";

    private Commands() {
    }
}
