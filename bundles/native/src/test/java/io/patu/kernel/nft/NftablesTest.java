package io.patu.kernel.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patu.kernel.NativeException;
import io.patu.kernel.netns.NetNs;
import io.patu.kernel.testing.Commands;
import io.patu.kernel.testing.KernelTest;
import io.patu.kernel.testing.TestNames;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** libnftables through the facade, in a namespace of the test's own, checked with the nft command. */
@KernelTest
class NftablesTest {
    private String name;
    private Path netns;

    @BeforeEach
    void createNamespace() {
        name = TestNames.unique("pe-nft-", 8);
        netns = NetNs.create(name);
    }

    @AfterEach
    void deleteNamespace() {
        NetNs.delete(name);
    }

    @Test
    void aBatchIsAppliedAndListedAndAFailingOneChangesNothing() throws Exception {
        NetNs.callIn(netns, () -> {
            try (Nftables nft = Nftables.open()) {
                assertFalse(nft.tableExists("inet", "pe_test"));
                nft.run("""
                        add table inet pe_test
                        add set inet pe_test nets { type ipv4_addr; flags interval; }
                        add element inet pe_test nets { 10.1.0.0/16 }
                        """);
                assertTrue(nft.tableExists("inet", "pe_test"));
                assertTrue(nft.run("list set inet pe_test nets").contains("10.1.0.0/16"));
                // The second command fails, so the first one is not applied either: one transaction.
                NativeException e = assertThrows(NativeException.class, () -> nft.run("""
                        add element inet pe_test nets { 10.2.0.0/16 }
                        add element inet pe_test missing { 10.3.0.0/16 }
                        """));
                assertTrue(e.getMessage().contains("missing"), e.getMessage());
                assertFalse(nft.run("list set inet pe_test nets").contains("10.2.0.0/16"));
                nft.run("delete table inet pe_test");
                assertFalse(nft.tableExists("inet", "pe_test"));
            }
            return null;
        });
        // The table lived in the test's namespace only.
        assertFalse(Commands.check("nft", "list", "tables").contains("pe_test"));
    }

    @Test
    void closedContextRefusesWork() {
        Nftables nft = Nftables.open();
        nft.close();
        nft.close();
        assertEquals("nftables context is closed",
                assertThrows(IllegalStateException.class, () -> nft.run("list tables")).getMessage());
    }
}
