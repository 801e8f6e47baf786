/** Mounting file systems and managing cgroup v2 directories. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.patu.kernel.fs;
