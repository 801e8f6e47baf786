package io.patu.kernel.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@KernelTest
class NetNsTest {
    private static final Path OWN_NETNS = Path.of("/proc/thread-self/ns/net");

    private String name;
    private Path netns;

    @BeforeEach
    void createNamespace() {
        name = TestNames.unique("ptn-", 8);
        netns = NetNs.create(name);
    }

    @AfterEach
    void deleteNamespace() {
        NetNs.delete(name);
        assertFalse(Files.exists(netns), "namespace handle removed");
        assertFalse(Commands.check("ip", "netns", "list").contains(name), "ip netns list no longer shows it");
    }

    @Test
    void createdNamespaceIsVisibleToIproute2AndIsANetworkNamespace() {
        assertEquals(NetNs.NAMED_NETNS_DIR.resolve(name), netns);
        assertTrue(Commands.check("ip", "netns", "list").contains(name));
        assertTrue(NetNs.isNetworkNamespace(netns));
        assertTrue(NetNs.isNetworkNamespace(Path.of("/proc/self/ns/net")));
    }

    @Test
    void createRefusesATakenName() {
        NativeException e = assertThrows(NativeException.class, () -> NetNs.create(name));
        assertEquals(Errno.EEXIST, e.errno());
    }

    @Test
    void deleteOfAnUnknownNameReturnsFalse() {
        assertFalse(NetNs.delete(TestNames.unique("ptn-", 8)));
    }

    @Test
    void invalidNamesAreRefusedBeforeTouchingTheFileSystem() {
        assertThrows(IllegalArgumentException.class, () -> NetNs.create("../etc"));
        assertThrows(IllegalArgumentException.class, () -> NetNs.create(".."));
        assertThrows(IllegalArgumentException.class, () -> NetNs.create(""));
    }

    @Test
    void anythingElseIsNotANetworkNamespaceAndNothingThrows() {
        assertFalse(NetNs.isNetworkNamespace(Path.of("/etc/hostname")));
        assertFalse(NetNs.isNetworkNamespace(Path.of("/nonexistent")));
        assertFalse(NetNs.isNetworkNamespace(Path.of("/proc")));
        assertFalse(NetNs.isNetworkNamespace(Path.of("../../etc/passwd")));
        assertFalse(NetNs.isNetworkNamespace(Path.of("/proc/self/ns/mnt")), "a namespace, but not a network one");
        assertFalse(NetNs.isNetworkNamespace(Path.of("/dev/null")));
    }

    @Test
    void callInRunsInTheTargetNamespaceAndLeavesTheCallerWhereItWas() throws Exception {
        String before = Files.readSymbolicLink(OWN_NETNS).toString();
        String inside = NetNs.callIn(netns, () -> Files.readSymbolicLink(OWN_NETNS).toString());
        String target = "net:[" + Files.getAttribute(netns, "unix:ino") + "]";

        assertEquals(target, inside);
        assertNotEquals(before, inside);
        assertEquals(before, Files.readSymbolicLink(OWN_NETNS).toString());
        assertTrue(NetNs.callIn(netns, () -> Thread.currentThread() != null && !Thread.currentThread().isVirtual()));
    }

    @Test
    void callInPropagatesExceptionsUnchanged() {
        IOException thrown = new IOException("from inside");
        IOException caught = assertThrows(IOException.class, () -> NetNs.callIn(netns, () -> {
            throw thrown;
        }));
        assertSame(thrown, caught);
    }

    @Test
    void callInRefusesSomethingThatIsNotANetworkNamespace() {
        NativeException e = assertThrows(NativeException.class,
                () -> NetNs.callIn(Path.of("/etc/hostname"), () -> "never"));
        assertEquals(Errno.EINVAL, e.errno());
    }
}
