package io.patu.datapath.xdp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Java layouts must match what the C compiler laid out. The compiled object carries BTF for every
 * struct in bpf/include/patu_xdp.h; this test reads it (bpftool's JSON dump) and compares sizes and
 * member offsets with {@link XdpLayouts}, so a change on one side alone fails the build.
 */
class XdpLayoutsBtfTest {
    private static final Map<String, JsonNode> BTF_STRUCTS = new HashMap<>();

    @BeforeAll
    static void readBtf() throws Exception {
        Path object = objectFile();
        Process bpftool = new ProcessBuilder("bpftool", "-j", "btf", "dump", "file", object.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        JsonNode dump = new ObjectMapper().readTree(bpftool.getInputStream());
        assertTrue(bpftool.waitFor(30, TimeUnit.SECONDS) && bpftool.exitValue() == 0, "bpftool btf dump failed");
        for (JsonNode type : dump.get("types")) {
            if ("STRUCT".equals(type.get("kind").asText())) {
                BTF_STRUCTS.put(type.get("name").asText(), type);
            }
        }
    }

    private static Path objectFile() throws URISyntaxException {
        var url = XdpLayoutsBtfTest.class.getResource(XdpKernelState.OBJECT_RESOURCE);
        assertNotNull(url, XdpKernelState.OBJECT_RESOURCE + " is not on the test class path");
        return Path.of(url.toURI());
    }

    @Test
    void everySharedStructMatchesItsBtf() {
        for (StructLayout layout : XdpLayouts.ALL) {
            String name = layout.name().orElseThrow();
            JsonNode btf = BTF_STRUCTS.get(name);
            assertNotNull(btf, "struct " + name + " is not in the object's BTF");
            assertEquals(btf.get("size").asLong(), layout.byteSize(), "size of struct " + name);
            List<MemoryLayout> members = layout.memberLayouts();
            JsonNode btfMembers = btf.get("members");
            assertEquals(btfMembers.size(), members.size(), "member count of struct " + name);
            for (int i = 0; i < members.size(); i++) {
                String member = members.get(i).name().orElseThrow();
                assertEquals(btfMembers.get(i).get("name").asText(), member, "member " + i + " of struct " + name);
                long offset = layout.byteOffset(MemoryLayout.PathElement.groupElement(member));
                assertEquals(btfMembers.get(i).get("bits_offset").asLong(), offset * 8, "offset of " + name + "." + member);
            }
        }
    }

    @Test
    void ipv4KeysAreV4MappedAndRulesKeepNetworkOrder() {
        assertEquals("00000000000000000000ffff0a4d0002",
                java.util.HexFormat.of().formatHex(XdpLayouts.podKey(InetAddress.ofLiteral("10.77.0.2"))));
        byte[] rule = XdpLayouts.rule(DenyRule.parse("192.0.2.0/24 udp 53-54"));
        assertEquals("c0000200", java.util.HexFormat.of().formatHex(rule, 0, 4), "address in network order");
        assertEquals("ffffff00", java.util.HexFormat.of().formatHex(rule, 16, 20), "mask in network order");
        assertEquals(4, rule[36], "family");
        assertEquals(17, rule[37], "protocol");
    }

    @Test
    void podDestCarriesTheMac() {
        byte[] dest = XdpLayouts.podDest(7, "02:42:ac:11:00:02");
        assertEquals("0242ac110002", java.util.HexFormat.of().formatHex(dest, 4, 10));
        assertEquals(7, XdpLayouts.u32(java.util.Arrays.copyOf(dest, 4)));
    }
}
