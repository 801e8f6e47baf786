/**
 * The contract between Patu's bundles: pods, addresses, and the services that act on them.
 * Nothing here has behaviour beyond validation; implementations live in their own bundles.
 */
@Export
@Version("1.5.0")
package io.patu.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
