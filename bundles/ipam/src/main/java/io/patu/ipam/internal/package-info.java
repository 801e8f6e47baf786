/** Implementation of {@link io.patu.api.IpAllocator}; nothing here is exported. */
package io.patu.ipam.internal;
