/**
 * A typed facade over libnftables: nftables commands run in the caller's network namespace, atomically per
 * call. Feature bundles use {@link io.patu.kernel.nft.Nftables} and never see a method handle.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.patu.kernel.nft;
