package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.patu.kernel.testing.KernelTest;

/**
 * {@code bin/patu install-service}, {@code install-cni} and {@code uninstall}: the unit passes systemd's own
 * check, starts the agent the way the settings file says, and uninstall leaves nothing of what was written.
 * Everything goes to a temporary directory; systemd is not PID 1 on these machines, so nothing is enabled.
 */
@KernelTest
class ServiceInstallIT {
    private Path dir;
    private Path record;

    @BeforeEach
    void createDirectory() throws IOException {
        dir = Files.createTempDirectory("patu-service-it");
        record = dir.resolve("installed.list");
    }

    @AfterEach
    void removeDirectory() throws IOException {
        AgentUnderTest.deleteTree(dir);
    }

    @Test
    void theUnitPassesSystemdsCheckAndUninstallRemovesEverything() throws Exception {
        Path units = dir.resolve("units");
        Path defaults = dir.resolve("default");
        Run install = patu("install-service", "--profile", "minimal", "--unit-dir", units.toString(),
                "--env-dir", defaults.toString());
        assertEquals(0, install.exit, install.output);
        Run cni = patu("install-cni", "--bin-dir", dir.resolve("bin").toString(), "--conf-dir",
                dir.resolve("net.d").toString());
        assertEquals(0, cni.exit, cni.output);

        Path unit = units.resolve("patu.service");
        String text = Files.readString(unit);
        Path home = AgentUnderTest.DIST.toRealPath();
        assertTrue(text.contains("ExecStart=" + home + "/bin/patu run --profile ${PATU_PROFILE} --config ${PATU_CONFIG}"), text);
        assertTrue(text.contains("Restart=on-failure"), text);
        assertTrue(text.contains("Before=containerd.service crio.service podman.service"), text);
        assertTrue(text.contains("EnvironmentFile=" + defaults.toRealPath().resolve("patu")), text);
        String settings = Files.readString(defaults.resolve("patu"));
        assertTrue(settings.contains("PATU_PROFILE=minimal\n"), settings);
        assertTrue(settings.contains("PATU_CONFIG=" + home.resolve("conf/patu.json") + "\n"), settings);

        Process verify = new ProcessBuilder("systemd-analyze", "verify", unit.toString()).redirectErrorStream(true).start();
        String verdict = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), verdict);
        assertEquals("", verdict.strip(), "systemd-analyze verify has nothing to say about the unit");

        List<String> written = Files.readAllLines(record);
        assertEquals(4, written.size(), written.toString());
        for (String path : written) {
            assertTrue(Files.exists(Path.of(path)), path);
        }

        Run uninstall = patu("uninstall");
        assertEquals(0, uninstall.exit, uninstall.output);
        for (String path : written) {
            assertFalse(Files.exists(Path.of(path)), path + " removed");
        }
        assertFalse(Files.exists(record), "the record goes with what it listed");
        assertEquals(0, patu("uninstall").exit, "a second uninstall finds nothing to do");
    }

    @Test
    void aBadProfileOrConfigurationIsRefusedBeforeAnythingIsWritten() throws Exception {
        Run badProfile = patu("install-service", "--profile", "no-such", "--unit-dir", dir.resolve("u").toString(),
                "--env-dir", dir.resolve("d").toString());
        assertNotEquals(0, badProfile.exit);
        assertTrue(badProfile.output.contains("no profile 'no-such'"), badProfile.output);
        Run badConfig = patu("install-service", "--config", dir.resolve("missing.json").toString(),
                "--unit-dir", dir.resolve("u").toString(), "--env-dir", dir.resolve("d").toString());
        assertNotEquals(0, badConfig.exit);
        assertTrue(badConfig.output.contains("does not exist"), badConfig.output);
        assertFalse(Files.exists(dir.resolve("u")), "no unit directory made");
        assertFalse(Files.exists(record), "nothing recorded");
    }

    @Test
    void aUserWithoutSudoIsToldToRunAsRoot() throws Exception {
        // setpriv drops to nobody for this one command; the search path holds no sudo unless Debian's is installed.
        boolean sudoInstalled = Files.isExecutable(Path.of("/usr/bin/sudo"));
        Run asNobody = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                AgentUnderTest.DIST.resolve("bin/patu").toAbsolutePath().toString(), "start"), Map.of());
        assertNotEquals(0, asNobody.exit, asNobody.output);
        if (sudoInstalled) {
            assertTrue(asNobody.output.contains("sudo"), "sudo was asked: " + asNobody.output);
        } else {
            assertTrue(asNobody.output.contains("'start' needs root") && asNobody.output.contains("run it as root"),
                    asNobody.output);
        }
    }

    private Run patu(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(AgentUnderTest.DIST.resolve("bin/patu").toString());
        command.addAll(List.of(args));
        return run(command, Map.of("PATU_INSTALL_RECORD", record.toString()));
    }

    private static Run run(List<String> command, Map<String, String> environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "bin/patu finished: " + command);
        return new Run(process.exitValue(), output);
    }

    private record Run(int exit, String output) {
    }
}
