/** rtnetlink: links, addresses and routes, in the host or in a container's network namespace. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.patu.kernel.netlink;
