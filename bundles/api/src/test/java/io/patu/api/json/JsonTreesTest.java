package io.patu.api.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** JsonTrees must read and write exactly as the ObjectMapper it replaced, with its defaults. */
class JsonTreesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{}", "[]", "\"text\"", "0", "-7", "2147483648", "9223372036854775808", "1.5", "-2e-3", "true", "null",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"patu\",\"ipam\":{\"type\":\"patu\",\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"}]]}}",
        "{\"a\":[1,[2,[3,{\"b\":null}]],\"\\u00e9\\n\\t\\\"\"],\"c\":{},\"d\":[]}",
        "{\"dup\":1,\"dup\":{\"x\":2}}",
        "  {\"spaced\" :  [ true , false ] }  "})
    void readsAndWritesAsObjectMapper(String json) throws Exception {
        JsonNode expected = MAPPER.readTree(json);
        JsonNode tree = JsonTrees.read(utf8(json));
        assertEquals(expected, tree);
        assertEquals(MAPPER.writeValueAsString(expected), JsonTrees.toText(tree));
        assertArrayEquals(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(expected), JsonTrees.write(tree, true));
    }

    @Test
    void noDocumentIsNull() throws Exception {
        assertNull(JsonTrees.read(utf8("")));
        assertNull(JsonTrees.read(utf8(" \n ")));
    }

    @Test
    void trailingContentIsRefusedOnlyWhenAsked() throws Exception {
        assertEquals(MAPPER.readTree("{\"a\":1}"), JsonTrees.read(utf8("{\"a\":1} {\"b\":2}")));
        assertThrows(JsonProcessingException.class, () -> JsonTrees.read(JsonTrees.FACTORY, utf8("{\"a\":1} {"), true));
        assertThrows(JsonProcessingException.class, () -> JsonTrees.read(JsonTrees.FACTORY, utf8("{\"a\":1} x"), true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"a\":}", "[1,", "{\"a\" 1}", "tru", "{'a':1}", "[1]]"})
    void malformedTextFails(String json) {
        assertThrows(JsonProcessingException.class, () -> JsonTrees.read(JsonTrees.FACTORY, utf8(json), true));
    }

    @Test
    void theFactoryLimitsApply() {
        JsonFactory shallow = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(3).build()).build();
        assertThrows(JsonProcessingException.class, () -> JsonTrees.read(shallow, utf8("[[[[1]]]]"), true));
    }

    @Test
    void readAllReturnsEveryRootValueAndBoundsTheirNumber() throws Exception {
        byte[] three = "{\"a\": 1} [2] \"x\"".getBytes(StandardCharsets.UTF_8);
        assertEquals("[{\"a\":1}, [2], \"x\"]", JsonTrees.readAll(JsonTrees.FACTORY, three, 3).toString());
        assertThrows(JsonProcessingException.class, () -> JsonTrees.readAll(JsonTrees.FACTORY, three, 2));
        assertEquals(0, JsonTrees.readAll(JsonTrees.FACTORY, "  ".getBytes(StandardCharsets.UTF_8), 1).size());
    }
}
