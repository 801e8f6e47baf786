/**
 * A typed facade over libbpf: BPF objects, their maps and programs, links and bpffs. Feature
 * bundles use these classes and never see a method handle.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.patu.kernel.bpf;
