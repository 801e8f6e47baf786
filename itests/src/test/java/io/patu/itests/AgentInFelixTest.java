package io.patu.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.bootDelegationPackages;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.cm.ConfigurationAdminOptions.newConfiguration;

import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;

import io.patu.api.Datapath;
import io.patu.api.IpAllocator;
import io.patu.api.PodListener;
import io.patu.api.Readiness;
import io.patu.api.ReadinessReport;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricsSource;

/**
 * The agent's real bundles in Felix, on the real kernel: services come and go with their bundles, and
 * datapath-sockmap's kernel objects with them.
 *
 * <p>One framework for the class; each test starts from the Patu bundles just started ({@link #startAgent})
 * and ends with them stopped and the host cleaned ({@link #stopAgentAndCleanHost}), so no test depends
 * on another's order or leftovers.
 */
@RunWith(KernelPaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AgentInFelixTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String SOCKMAP_FILTER = "(" + Datapath.FEATURE + "=sockmap)";
    private static final List<String> SOCKMAP_PINS =
            List.of("local_pods", "sock_hash", "sockmap_stats", "pod_stats", "conn_state", "redirect_policy",
                    "sockops_link");
    private static final String SOCK_OPS = "cgroup_sock_ops";

    /** Stopped in this order: datapath-sockmap first and explicitly, see {@link #stopAgentAndCleanHost}. */
    private static final List<String> AGENT_BUNDLES =
            List.of("io.patu.datapath-sockmap", "io.patu.lifecycle", "io.patu.ipam", "io.patu.config");

    private BundleContext context;
    private KernelFixture fixture;

    @Configuration
    public Option[] agentAsDistributed() {
        KernelFixture fixture = KernelFixture.create();
        List<Option> options = new ArrayList<>(List.of(
                bootDelegationPackages("sun.*", "com.sun.*", "jdk.internal.*"),
                junitBundles(),
                mavenBundle("org.hamcrest", "hamcrest").versionAsInProject(),
                mavenBundle("org.awaitility", "awaitility").versionAsInProject(),

                // Configuration Admin and the test's configurations start at level 1, the agent at the
                // default level 3: no component ever activates on its defaults, which would attach to the
                // cgroup v2 root and take over the pins of an agent running on this host.
                mavenBundle("org.apache.felix", "org.apache.felix.configadmin").versionAsInProject().startLevel(1),
                newConfiguration("io.patu.datapath.sockmap")
                        .put("bpffsDir", fixture.bpffsDir.toString())
                        .put("cgroupPath", fixture.cgroup.toString()).asOption(),
                newConfiguration("io.patu.lifecycle")
                        .put("bridgeName", fixture.bridgeName)
                        .put("socketPath", fixture.socketPath().toString())
                        .put("stateDir", fixture.lifecycleStateDir().toString()).asOption(),
                newConfiguration(IpAllocator.PID)
                        .put("subnet", "10.123.0.0/24")
                        .put("stateDir", fixture.ipamStateDir().toString()).asOption(),

                // The distribution's bundle/ directory, less the gogo shell (the console): the runtime and
                // Felix's commands are there, for the patu commands and the remote shell.
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.runtime").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.gogo.command").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
                mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
                mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
                mavenBundle("com.fasterxml.jackson.core", "jackson-annotations").versionAsInProject(),
                mavenBundle("com.fasterxml.jackson.core", "jackson-core").versionAsInProject(),
                mavenBundle("com.fasterxml.jackson.core", "jackson-databind").versionAsInProject(),
                mavenBundle("io.patu", "api").versionAsInProject(),
                mavenBundle("io.patu", "native").versionAsInProject(),
                mavenBundle("io.patu", "config").versionAsInProject(),
                mavenBundle("io.patu", "ipam").versionAsInProject(),
                mavenBundle("io.patu", "datapath-sockmap").versionAsInProject(),
                mavenBundle("io.patu", "lifecycle").versionAsInProject()));
        // No patu.config property: the config bundle then leaves Configuration Admin to the test.
        for (String[] property : fixture.frameworkProperties()) {
            options.add(frameworkProperty(property[0]).value(property[1]));
        }
        return options(options.toArray(Option[]::new));
    }

    @Before
    public void startAgent() throws Exception {
        context = FrameworkUtil.getBundle(getClass()).getBundleContext();
        fixture = KernelFixture.of(context);
        // The previous test's cleanup removed them; at boot the driver had created them.
        fixture.ensureCreated();
        for (String name : AGENT_BUNDLES.reversed()) {
            bundle(name).start();
        }
        await().atMost(TIMEOUT).untilAsserted(this::assertAgentRunning);
    }

    @After
    public void stopAgentAndCleanHost() throws Exception {
        if (fixture == null) {
            return; // startAgent failed before it knew the fixture; the runner's last sweep removes it
        }
        try {
            // datapath-sockmap keeps its pins and its cgroup link when the framework itself stops (so
            // redirected connections survive an agent restart): it must be stopped on its own, while the
            // framework runs, to remove them.
            for (String name : AGENT_BUNDLES) {
                bundle(name).stop();
            }
        } finally {
            fixture.removeAll();
        }
    }

    @Test
    public void startedAgentRegistersItsServicesAndAttachesSockmapToTheConfiguredCgroup() throws Exception {
        // assertAgentRunning passed in startAgent; here, that it runs on the test's configuration.
        ServiceReference<Datapath> datapath = theOnly(Datapath.class, SOCKMAP_FILTER);
        assertEquals(fixture.cgroup.toString(), datapath.getProperty("cgroupPath"));
        assertEquals(fixture.bpffsDir.toString(), datapath.getProperty("bpffsDir"));
        assertEquals(fixture.ipamStateDir().toString(), theOnly(IpAllocator.class, null).getProperty("stateDir"));
        assertEquals(ComponentConfigurationDTO.ACTIVE, lifecycleState());
        assertFalse("no pod, so no bridge", Files.exists(Path.of("/sys/class/net", fixture.bridgeName)));
    }

    @Test
    public void stoppingDatapathBundleRemovesItsServicesAndKernelStateAndStartingRestoresThem() throws Exception {
        Bundle datapath = bundle("io.patu.datapath-sockmap");
        for (int round = 1; round <= 2; round++) {
            datapath.stop();
            await().atMost(TIMEOUT).untilAsserted(() -> {
                assertEquals(0, services(Datapath.class, SOCKMAP_FILTER).size());
                assertEquals(0, services(PodListener.class, null).size());
                assertFalse("pin dir removed", Files.exists(fixture.sockmapPinDir()));
                assertEquals("nothing attached to the cgroup", List.of(), fixture.cgroupAttachTypes());
            });
            assertLifecycleServing(); // the plain path does not depend on the feature

            datapath.start();
            await().atMost(TIMEOUT).untilAsserted(this::assertSockmapAttached);
        }
    }

    @Test
    public void stoppingIpamRemovesTheAllocatorWhileLifecycleKeepsServing() throws Exception {
        Bundle ipam = bundle("io.patu.ipam");
        ipam.stop();
        await().atMost(TIMEOUT).untilAsserted(() -> assertEquals(0, services(IpAllocator.class, null).size()));
        assertLifecycleServing();

        ipam.start();
        await().atMost(TIMEOUT).untilAsserted(() -> assertEquals(1, services(IpAllocator.class, null).size()));
        assertLifecycleServing();
    }

    @Test
    public void datapathCountersReportTheSockmapCounters() throws Exception {
        ServiceReference<Datapath> reference = theOnly(Datapath.class, SOCKMAP_FILTER);
        Datapath datapath = context.getService(reference);
        try {
            SequencedMap<String, Long> counters = datapath.counters();
            assertEquals(List.of("msgs_redirected", "bytes_redirected", "msgs_passed", "bytes_passed",
                    "sockets_added", "sockets_add_failed", "to_plain_small", "to_plain_no_peer", "to_plain_full",
                    "back_to_redirect", "conns_untracked", "sockets_left"),
                    List.copyOf(counters.keySet()));
            counters.forEach((name, value) -> assertTrue(name + " = " + value, value >= 0));
        } finally {
            context.ungetService(reference);
        }
    }

    @Test
    public void patuCommandsAreRegisteredAndPrintTables() throws Exception {
        await().atMost(TIMEOUT).untilAsserted(() -> assertEquals(
                List.of("disable", "enable", "features", "health", "leases", "pods", "stats", "status"), patuCommands()));
        assertEquals("ready: yes", gogo("patu:health").lines().findFirst().orElseThrow());

        String status = gogo("patu:status");
        assertTrue(status, status.contains("socket        " + fixture.socketPath()));
        assertTrue(status, status.contains("pods          0"));
        assertTrue(status, status.contains("ipam          present"));
        assertTrue(status, status.contains("sockmap  io.patu.datapath-sockmap [" + bundle("io.patu.datapath-sockmap").getBundleId() + "]  active"));

        assertEquals("FEATURE  BUNDLE", gogo("patu:features").lines().findFirst().orElseThrow().substring(0, 15));
        assertEquals("no pods", gogo("patu:pods"));
        assertEquals("no leases", gogo("patu:leases"));
        String stats = gogo("patu:stats");
        assertTrue(stats, stats.startsWith("ADDRESS  POD  MSGS_REDIRECTED  BYTES_REDIRECTED\ntotal"));
        assertTrue(stats, stats.contains("sockets_added="));
    }

    /**
     * The bundles' metrics sources and health checks as the metrics bundle and readiness see them: every
     * source gives valid families (the api records check them), and a datapath stopped behind the feature
     * manager's back makes the node not ready until it runs again.
     */
    @Test
    public void bundlesContributeMetricsAndHealthAndReadinessFollowsTheDatapath() throws Exception {
        TreeMap<String, List<MetricFamily>> sources = new TreeMap<>();
        for (ServiceReference<MetricsSource> reference : services(MetricsSource.class, null)) {
            MetricsSource source = context.getService(reference);
            try {
                sources.put((String) reference.getProperty(MetricsSource.NAME), source.collect());
            } finally {
                context.ungetService(reference);
            }
        }
        assertEquals(List.of("ipam", "lifecycle", "sockmap"), List.copyOf(sources.keySet()));
        assertTrue(sources.get("sockmap").stream().anyMatch(f -> f.name().equals("patu_sockmap_redirected_bytes_total")));
        assertTrue(sources.get("ipam").stream().anyMatch(f -> f.name().equals("patu_ipam_pool_addresses")));
        assertTrue(sources.get("lifecycle").stream().anyMatch(f -> f.name().equals("patu_feature_active")));

        ServiceReference<Readiness> reference = theOnly(Readiness.class, null);
        Readiness readiness = context.getService(reference);
        try {
            assertTrue(readiness.check().toString(), readiness.check().ready());
            Bundle sockmap = bundle("io.patu.datapath-sockmap");
            sockmap.stop();
            ReadinessReport stopped = readiness.check();
            assertFalse(stopped.toString(), stopped.ready());
            assertTrue(stopped.toString(), stopped.entries().stream().anyMatch(e -> e.name().equals("sockmap")
                    && e.problems().getFirst().startsWith("enabled, but its bundle is not active")));
            sockmap.start();
            await().atMost(TIMEOUT).until(() -> readiness.check().ready());
        } finally {
            context.ungetService(reference);
        }
    }

    @Test
    public void disablingSockmapStopsItsBundleRemovesItsPinsAndIsRememberedUntilEnabled() throws Exception {
        Bundle sockmap = bundle("io.patu.datapath-sockmap");
        Path features = fixture.lifecycleStateDir().resolve("features.json");

        String disabled = gogo("patu:disable sockmap");
        assertTrue(disabled, disabled.startsWith("sockmap disabled"));
        assertEquals(Bundle.RESOLVED, sockmap.getState());
        assertFalse("pin dir removed", Files.exists(fixture.sockmapPinDir()));
        assertEquals("nothing attached to the cgroup", List.of(), fixture.cgroupAttachTypes());
        assertEquals("{\"disabled\":[\"sockmap\"]}", Files.readString(features).replaceAll("\\s", ""));
        assertTrue(gogo("patu:features"), gogo("patu:features").contains("  disabled"));

        // Started behind the feature manager's back, a disabled feature is stopped when lifecycle activates.
        sockmap.start();
        await().atMost(TIMEOUT).untilAsserted(this::assertSockmapAttached);
        Bundle lifecycle = bundle("io.patu.lifecycle");
        lifecycle.stop();
        lifecycle.start();
        assertEquals(Bundle.RESOLVED, sockmap.getState());
        assertFalse("pin dir removed", Files.exists(fixture.sockmapPinDir()));

        String enabled = gogo("patu:enable sockmap");
        assertTrue(enabled, enabled.startsWith("sockmap enabled"));
        await().atMost(TIMEOUT).untilAsserted(this::assertSockmapAttached);
        assertEquals("{\"disabled\":[]}", Files.readString(features).replaceAll("\\s", ""));
    }

    @Test
    public void unknownFeatureNamesAreRefusedWithTheKnownOnes() throws Exception {
        try {
            gogo("patu:disable xdp");
            fail("an unknown feature was disabled");
        } catch (IllegalArgumentException e) {
            assertEquals("unknown feature 'xdp': the known features are ipam, sockmap", e.getMessage());
        }
        assertFalse(Files.exists(fixture.lifecycleStateDir().resolve("features.json")));
    }

    @Test
    public void remoteShellOverTheAgentSocketRunsPatuAndFelixCommands() throws Exception {
        await().atMost(TIMEOUT).untilAsserted(() -> assertTrue(patuCommands().contains("features")));
        String features = overSocket(shellFrame("patu:features"));
        assertTrue(features, features.startsWith("0\nFEATURE  BUNDLE"));
        assertTrue(features, features.contains("ipam     io.patu.ipam ["));

        String lb = overSocket(shellFrame("lb"));
        assertTrue(lb, lb.startsWith("0\n"));
        assertTrue(lb, lb.contains("Patu lifecycle"));

        String failed = overSocket(shellFrame("patu:enable xdp"));
        assertEquals("1\nunknown feature 'xdp': the known features are ipam, sockmap\n", failed);
    }

    @Test
    public void badShellFramesGetAClearError() throws Exception {
        String badLength = overSocket("PATUSH1\0abc\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(badLength, badLength.startsWith("1\nbad shell request: malformed request: the length of the command line is not a number"));
        String empty = overSocket(shellFrame(" "));
        assertTrue(empty, empty.startsWith("1\nbad shell request: empty command line"));
        // Neither frame type: answered as the CNI executable would understand it.
        String http = overSocket("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(http, http.startsWith("1\n{") && http.contains("bad magic"));
    }

    /** Runs a command line in a Gogo session, as the console does; returns what the command returned. */
    private String gogo(String commandLine) throws Exception {
        ServiceReference<CommandProcessor> reference = context.getServiceReference(CommandProcessor.class);
        CommandProcessor processor = context.getService(reference);
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), System.out, System.err)) {
            return String.valueOf(session.execute(commandLine));
        } finally {
            context.ungetService(reference);
        }
    }

    private List<String> patuCommands() throws Exception {
        List<String> functions = new ArrayList<>();
        for (ServiceReference<?> reference : context.getAllServiceReferences(null, "(osgi.command.scope=patu)")) {
            Object value = reference.getProperty("osgi.command.function");
            functions.addAll(value instanceof String[] names ? List.of(names) : List.of(String.valueOf(value)));
        }
        return functions.stream().sorted().toList();
    }

    private static byte[] shellFrame(String commandLine) {
        byte[] line = commandLine.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("PATUSH1\0" + line.length + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = Arrays.copyOf(head, head.length + line.length);
        System.arraycopy(line, 0, frame, head.length, line.length);
        return frame;
    }

    /** Writes one frame to the agent socket and reads the answer until the agent closes. */
    private String overSocket(byte[] frame) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(fixture.socketPath()));
            ByteBuffer out = ByteBuffer.wrap(frame);
            while (out.hasRemaining()) {
                channel.write(out);
            }
            return new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void assertAgentRunning() throws Exception {
        assertEquals(1, services(IpAllocator.class, null).size());
        assertLifecycleServing();
        assertSockmapAttached();
    }

    /** The Datapath and PodListener services, and their kernel objects seen through bpffs and bpftool. */
    private void assertSockmapAttached() throws Exception {
        assertEquals(1, services(Datapath.class, SOCKMAP_FILTER).size());
        assertEquals(1, services(PodListener.class, null).size());
        try (Stream<Path> pins = Files.list(fixture.sockmapPinDir())) {
            assertEquals(SOCKMAP_PINS.stream().sorted().toList(),
                    pins.map(pin -> pin.getFileName().toString()).sorted().toList());
        }
        assertEquals(List.of(SOCK_OPS), fixture.cgroupAttachTypes());
    }

    /** The lifecycle component has no service: its root-only socket shows it is active. */
    private void assertLifecycleServing() throws Exception {
        Path socket = fixture.socketPath();
        assertTrue(socket + " exists", Files.exists(socket));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    private int lifecycleState() {
        ServiceReference<ServiceComponentRuntime> reference = context.getServiceReference(ServiceComponentRuntime.class);
        ServiceComponentRuntime scr = context.getService(reference);
        try {
            var description = scr.getComponentDescriptionDTO(bundle("io.patu.lifecycle"),
                    "io.patu.lifecycle.internal.PodLifecycle");
            assertNotNull("lifecycle component", description);
            Collection<ComponentConfigurationDTO> configurations = scr.getComponentConfigurationDTOs(description);
            assertEquals(1, configurations.size());
            return configurations.iterator().next().state;
        } finally {
            context.ungetService(reference);
        }
    }

    private <S> Collection<ServiceReference<S>> services(Class<S> type, String filter) throws Exception {
        return context.getServiceReferences(type, filter);
    }

    private <S> ServiceReference<S> theOnly(Class<S> type, String filter) throws Exception {
        Collection<ServiceReference<S>> references = services(type, filter);
        assertEquals(type.getSimpleName() + " services", 1, references.size());
        return references.iterator().next();
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> b.getSymbolicName().equals(symbolicName))
                .findFirst().orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }
}
