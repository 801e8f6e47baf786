package io.patu.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Registered while a bundle is being replaced by another revision of itself (an over-the-air update or its
 * rollback), with {@link #BUNDLE} naming that bundle's symbolic name. A bundle that owns pinned kernel state
 * and sees one for itself when it stops leaves that state pinned and attached, as on an agent shutdown,
 * instead of removing it: the next revision adopts it, so redirected connections keep being redirected.
 * Without one, stopping the bundle means the feature is turned off, and its state goes.
 */
@ProviderType
public interface Handover {
    /** Service property: the symbolic name of the bundle being replaced. */
    String BUNDLE = "patu.handover.bundle";
}
