/** Network namespaces: recognising them, running code inside them, creating named ones. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.patu.kernel.netns;
