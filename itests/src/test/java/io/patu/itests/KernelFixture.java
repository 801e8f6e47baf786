package io.patu.itests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.osgi.framework.BundleContext;

import io.patu.kernel.fs.CgroupV2;

/**
 * What one test run owns on this host: a child cgroup v2, a bpffs directory, a bridge name and a temp
 * directory, all with a random suffix, so the run never touches the cgroup v2 root, the pins of an agent
 * running on the same host, or another run's objects.
 *
 * <p>The driver creates the fixture (the cgroup must exist before the datapath activates at boot) and
 * hands its paths to the framework as properties; the probe reads them back with {@link #of}.
 */
final class KernelFixture {
    private static final String PREFIX = "patu.itest.";
    private static final Path BPFFS = Path.of("/sys/fs/bpf");

    /** Fixtures this JVM created, for a last sweep when the container failed before the probe's cleanup. */
    private static final List<KernelFixture> CREATED = new CopyOnWriteArrayList<>();

    final Path cgroup;
    final Path bpffsDir;
    final Path tempDir;
    final String bridgeName;

    private KernelFixture(Path cgroup, Path bpffsDir, Path tempDir, String bridgeName) {
        this.cgroup = cgroup;
        this.bpffsDir = bpffsDir;
        this.tempDir = tempDir;
        this.bridgeName = bridgeName;
    }

    /** Picks fresh names and creates the cgroup and the temp directory. */
    static KernelFixture create() {
        String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
        try {
            KernelFixture fixture = new KernelFixture(CgroupV2.ensureMounted().resolve("patu-itest-" + suffix),
                    BPFFS.resolve("patu-itest-" + suffix), Files.createTempDirectory("patu-itest-"),
                    "ptb" + suffix); // 9 characters: interface names stop at 15
            CREATED.add(fixture);
            fixture.ensureCreated();
            return fixture;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture the driver created, as the probe sees it. */
    static KernelFixture of(BundleContext context) {
        return new KernelFixture(Path.of(context.getProperty(PREFIX + "cgroup")),
                Path.of(context.getProperty(PREFIX + "bpffsDir")), Path.of(context.getProperty(PREFIX + "tempDir")),
                context.getProperty(PREFIX + "bridgeName"));
    }

    /** Framework properties from which {@link #of} rebuilds this fixture. */
    String[][] frameworkProperties() {
        return new String[][] {{PREFIX + "cgroup", cgroup.toString()}, {PREFIX + "bpffsDir", bpffsDir.toString()},
            {PREFIX + "tempDir", tempDir.toString()}, {PREFIX + "bridgeName", bridgeName}};
    }

    Path socketPath() {
        return tempDir.resolve("run/patu.sock");
    }

    Path lifecycleStateDir() {
        return tempDir.resolve("lifecycle");
    }

    Path ipamStateDir() {
        return tempDir.resolve("ipam");
    }

    /** Where datapath-sockmap pins its objects. */
    Path sockmapPinDir() {
        return bpffsDir.resolve("sockmap");
    }

    /** Creates the cgroup and the temp directory again after {@link #removeAll}; existing ones are kept. */
    void ensureCreated() throws IOException {
        CgroupV2.create(cgroup.getParent(), cgroup.getFileName().toString());
        Files.createDirectories(tempDir);
    }

    /**
     * Removes whatever is left: pins (only after datapath-sockmap was stopped, or they are just
     * unlinked from bpffs while the bundle still holds the objects), the cgroup, a bridge, the temp
     * directory. Every step runs; the first failure is thrown with the others suppressed.
     */
    void removeAll() throws Exception {
        List<Exception> failures = new ArrayList<>();
        run(failures, () -> deleteTree(bpffsDir));
        run(failures, () -> CgroupV2.remove(cgroup));
        run(failures, () -> {
            if (Files.exists(Path.of("/sys/class/net", bridgeName))) {
                command("ip", "link", "delete", bridgeName);
            }
        });
        run(failures, () -> deleteTree(tempDir));
        if (!failures.isEmpty()) {
            Exception first = failures.getFirst();
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** Cleans up every fixture of this JVM that is still on the host; for the driver, after the container stopped. */
    static void removeLeftovers() throws Exception {
        for (KernelFixture fixture : CREATED) {
            fixture.removeAll();
        }
        CREATED.clear();
    }

    /**
     * The attach types of the programs attached directly to the fixture's cgroup, as bpftool lists
     * them (e.g. {@code cgroup_sock_ops}). The test asks the kernel through a tool Patu does not use,
     * so it does not trust Patu's own view of what it attached.
     */
    List<String> cgroupAttachTypes() throws IOException, InterruptedException {
        List<String> lines = command("bpftool", "cgroup", "show", cgroup.toString());
        // A header line ("ID AttachType AttachFlags Name"), then one line a program.
        return lines.stream().skip(1).filter(line -> !line.isBlank())
                .map(line -> line.trim().split("\\s+")[1]).toList();
    }

    /** Whether this process may change the kernel: BPF, cgroups and mounts need root. */
    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static List<String> command(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output.lines().toList();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void run(List<Exception> failures, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            failures.add(e);
        }
    }
}
