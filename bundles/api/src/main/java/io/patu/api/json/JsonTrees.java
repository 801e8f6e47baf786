package io.patu.api.json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads JSON text into a {@link JsonNode} tree with jackson-core's streaming parser, and writes a tree with
 * its generator. Every bundle reads and writes only small documents (CNI requests and results, the
 * configuration, leases, the pod registry), for which an ObjectMapper is the costliest part of Jackson: its
 * serializer and deserializer factories, introspection and caches load about 280 classes of
 * jackson-databind and 20 of jackson-annotations at start-up (about 3 MiB of the idle agent, README
 * "Footprint"). The trees are databind's own node classes, which need none of that.
 *
 * <p>Trees come out as {@code ObjectMapper.readTree} builds them with its defaults: integers as int, long
 * or BigInteger nodes by size, other numbers as doubles, the last of duplicate names wins. Limits (nesting,
 * string length) are those of the {@link JsonFactory} given.
 */
public final class JsonTrees {
    /** Parsers and generators with Jackson's default limits. */
    public static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonTrees() {
    }

    /**
     * The document in {@code json}, or null when it holds none (empty or only whitespace). With
     * {@code wholeInput}, anything after the document is an error ("{...} garbage" is not one document);
     * otherwise it is ignored, as ObjectMapper does by default.
     *
     * @throws com.fasterxml.jackson.core.JsonProcessingException when the text is not JSON or breaks a limit
     */
    public static JsonNode read(JsonFactory factory, byte[] json, boolean wholeInput) throws IOException {
        try (JsonParser parser = factory.createParser(json)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return null;
            }
            JsonNode root = value(parser, first);
            if (wholeInput) {
                JsonToken trailing = parser.nextToken();
                if (trailing != null) {
                    throw new JsonParseException(parser, "Trailing token (of type " + trailing + ") found after value");
                }
            }
            return root;
        }
    }

    /**
     * Every document in {@code input}, in order: one for JSON, one per document for a multi-document format
     * such as YAML (whose parser returns one root value after another). A document that is empty is a null
     * node.
     *
     * @param maxDocuments more documents than this is an error, so a hostile input cannot make many trees
     * @throws com.fasterxml.jackson.core.JsonProcessingException when the text is malformed or breaks a limit
     */
    public static List<JsonNode> readAll(JsonFactory factory, byte[] input, int maxDocuments) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (JsonParser parser = factory.createParser(input)) {
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (documents.size() == maxDocuments) {
                    throw new JsonParseException(parser, "more than " + maxDocuments + " documents");
                }
                documents.add(value(parser, token));
            }
        }
        return documents;
    }

    /** {@link #read(JsonFactory, byte[], boolean)} with Jackson's default limits, trailing content ignored. */
    public static JsonNode read(byte[] json) throws IOException {
        return read(FACTORY, json, false);
    }

    private static JsonNode value(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                for (String name = parser.nextFieldName(); name != null; name = parser.nextFieldName()) {
                    object.replace(name, value(parser, parser.nextToken()));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                for (JsonToken element = parser.nextToken(); element != JsonToken.END_ARRAY; element = parser.nextToken()) {
                    array.add(value(parser, element));
                }
                yield array;
            }
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new JsonParseException(parser, "Unexpected token (" + token + ")");
        };
    }

    /** The tree as compact JSON text, UTF-8. */
    public static byte[] write(JsonNode tree) {
        return write(tree, false);
    }

    /** The tree as JSON text, UTF-8; {@code pretty} indents it with Jackson's default pretty printer. */
    public static byte[] write(JsonNode tree, boolean pretty) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            if (pretty) {
                generator.useDefaultPrettyPrinter();
            }
            write(generator, tree);
        } catch (IOException e) {
            throw new UncheckedIOException("a tree written to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /**
     * Writes a node and its children with the generator. The nodes' own serialize methods need a
     * SerializerProvider, which only an ObjectMapper makes.
     */
    private static void write(JsonGenerator generator, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                generator.writeStartObject();
                for (Map.Entry<String, JsonNode> property : node.properties()) {
                    generator.writeFieldName(property.getKey());
                    write(generator, property.getValue());
                }
                generator.writeEndObject();
            }
            case ARRAY -> {
                generator.writeStartArray();
                for (JsonNode element : node) {
                    write(generator, element);
                }
                generator.writeEndArray();
            }
            case STRING -> generator.writeString(node.textValue());
            case NUMBER -> {
                switch (node.numberType()) {
                    case INT -> generator.writeNumber(node.intValue());
                    case LONG -> generator.writeNumber(node.longValue());
                    case BIG_INTEGER -> generator.writeNumber(node.bigIntegerValue());
                    case FLOAT -> generator.writeNumber(node.floatValue());
                    case DOUBLE -> generator.writeNumber(node.doubleValue());
                    case BIG_DECIMAL -> generator.writeNumber(node.decimalValue());
                }
            }
            case BOOLEAN -> generator.writeBoolean(node.booleanValue());
            case NULL -> generator.writeNull();
            default -> throw new IllegalArgumentException("a " + node.getNodeType() + " node has no JSON text");
        }
    }

    /** The tree as compact JSON text. */
    public static String toText(JsonNode tree) {
        return new String(write(tree), StandardCharsets.UTF_8);
    }

    /** A new empty object. */
    public static ObjectNode object() {
        return NODES.objectNode();
    }

    /** A new empty array. */
    public static ArrayNode array() {
        return NODES.arrayNode();
    }
}
