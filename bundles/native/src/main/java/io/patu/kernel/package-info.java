/**
 * Errors shared by every part of Patu's native layer: one exception type carrying the failed
 * operation and its errno.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.patu.kernel;
