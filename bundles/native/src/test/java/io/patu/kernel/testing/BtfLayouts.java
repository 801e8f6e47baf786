package io.patu.kernel.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The structs clang laid out in a compiled eBPF object, read from its BTF (bpftool's text dump), so that a
 * datapath's Java layouts can be held against them: a change to a shared header or to its Java mirror alone
 * fails the build instead of corrupting map entries at run time.
 */
public final class BtfLayouts {
    private static final Pattern STRUCT = Pattern.compile("^\\[\\d+\\] STRUCT '(\\w+)' size=(\\d+) vlen=(\\d+)$");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'(\\w+)' type_id=\\d+ bits_offset=(\\d+)$");

    private final Map<String, Long> sizes = new HashMap<>();
    private final Map<String, List<String[]>> members = new HashMap<>();

    private BtfLayouts(String dump) {
        List<String[]> current = null;
        for (String line : dump.split("\n")) {
            Matcher struct = STRUCT.matcher(line);
            Matcher member = MEMBER.matcher(line);
            if (struct.matches()) {
                current = new ArrayList<>();
                sizes.put(struct.group(1), Long.parseLong(struct.group(2)));
                members.put(struct.group(1), current);
            } else if (member.matches() && current != null) {
                current.add(new String[] {member.group(1), member.group(2)});
            } else if (!line.startsWith("\t")) {
                current = null;
            }
        }
    }

    /** The BTF of the object at {@code resource} on {@code anchor}'s class path. */
    public static BtfLayouts of(Class<?> anchor, String resource) throws URISyntaxException {
        URL url = anchor.getResource(resource);
        assertNotNull(url, resource + " is not on the test class path");
        return new BtfLayouts(Commands.check("bpftool", "btf", "dump", "file", Path.of(url.toURI()).toString()));
    }

    /** Asserts that every layout has a struct of its name, size, member names and member offsets. */
    public void assertMatch(List<StructLayout> layouts) {
        for (StructLayout layout : layouts) {
            String name = layout.name().orElseThrow();
            assertTrue(sizes.containsKey(name), "struct " + name + " is not in the object's BTF");
            assertEquals(sizes.get(name), layout.byteSize(), "size of struct " + name);
            List<String[]> btf = members.get(name);
            List<MemoryLayout> java = layout.memberLayouts();
            assertEquals(btf.size(), java.size(), "member count of struct " + name);
            for (int i = 0; i < java.size(); i++) {
                String member = java.get(i).name().orElseThrow();
                assertEquals(btf.get(i)[0], member, "member " + i + " of struct " + name);
                long offset = layout.byteOffset(MemoryLayout.PathElement.groupElement(member));
                assertEquals(Long.parseLong(btf.get(i)[1]), offset * 8, "offset of " + name + "." + member);
            }
        }
    }
}
