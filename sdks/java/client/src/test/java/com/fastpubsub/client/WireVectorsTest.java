package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Runs the shared spec/vectors/*.json through the Java codec: round trips and rejections. */
class WireVectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    static JsonNode suite(String file) throws IOException {
        Path p = TestSupport.repoRoot().resolve("spec/vectors").resolve(file);
        assertTrue(Files.isRegularFile(p), "missing vector file " + p);
        JsonNode vectors = new ObjectMapper().readTree(p.toFile()).get("vectors");
        assertTrue(vectors.size() > 0, "no vectors in " + p);
        return vectors;
    }

    private static byte[] hexWithZeros(JsonNode v) {
        byte[] head = HEX.parseHex(v.get("hex").asText());
        int zeros = v.has("append_zeros") ? v.get("append_zeros").asInt() : 0;
        byte[] out = new byte[head.length + zeros];
        System.arraycopy(head, 0, out, 0, head.length);
        return out;
    }

    private static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> publishVectors() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : suite("publish.json")) {
            tests.add(DynamicTest.dynamicTest(v.get("name").asText(), () -> {
                byte[] frame = hexWithZeros(v);
                if (v.has("error")) {
                    Wire.WireException e = assertThrows(Wire.WireException.class, () -> Wire.decodePublish(frame));
                    assertEquals(v.get("error").asText(), e.code());
                    return;
                }
                JsonNode f = v.get("fields");
                byte[] payload = HEX.parseHex(f.get("payload").asText());
                Wire.Publish got = Wire.decodePublish(frame);
                assertEquals(f.get("version").asInt(), got.version());
                assertEquals(f.get("mode").asInt(), got.mode());
                assertEquals(f.get("tenant").asText(), got.tenant());
                assertEquals(f.get("channel").asText(), got.channel());
                assertArrayEquals(payload, got.payload());
                // The SDK sends broadcast as v1 and deliver-one as v2; "v2 mode 0" is decode-only.
                boolean encodable = f.get("version").asInt() == 1 || f.get("mode").asInt() != 0;
                if (encodable) {
                    assertArrayEquals(frame, Wire.encodePublish(got.tenant(), got.channel(), payload, got.mode()));
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> deliveryVectors() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : suite("delivery.json")) {
            tests.add(DynamicTest.dynamicTest(v.get("name").asText(), () -> {
                byte[] frame = hexWithZeros(v);
                if (v.has("error")) {
                    Wire.WireException e = assertThrows(Wire.WireException.class, () -> Wire.decodeDelivery(frame));
                    assertEquals(v.get("error").asText(), e.code());
                    return;
                }
                JsonNode f = v.get("fields");
                Wire.Delivery d = Wire.decodeDelivery(frame);
                assertEquals(f.get("tenant").asText(), d.tenant());
                assertEquals(f.get("channel").asText(), d.channel());
                assertArrayEquals(HEX.parseHex(f.get("payload").asText()), d.payload());
                assertEquals(strings(f.get("patterns")), d.patterns());
                assertArrayEquals(frame, Wire.encodeDelivery(d.tenant(), d.channel(), d.payload(), d.patterns()));
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> textVectors() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : suite("text.json")) {
            String kind = v.get("kind").asText();
            String text = v.get("text").asText();
            tests.add(DynamicTest.dynamicTest(kind + " " + v.get("name").asText(), () -> {
                if (kind.equals("client-text")) {
                    // The SDK only formats client text; check what it would send for the valid ones.
                    if (v.has("error")) return;
                    JsonNode f = v.get("fields");
                    String k = f.get("kind").asText();
                    String expected = switch (k) {
                        case "SUB" -> f.path("latest").asBoolean(false)
                                ? Wire.formatSubLatest(f.get("tenant").asText(), f.get("pattern").asText())
                                : Wire.formatSub(f.get("tenant").asText(), f.get("pattern").asText());
                        case "UNSUB" -> Wire.formatUnsub(f.get("tenant").asText(), f.get("pattern").asText());
                        default -> Wire.PING;
                    };
                    assertEquals(text, expected);
                    return;
                }
                assertEquals("server-text", kind);
                JsonNode f = v.get("fields");
                Wire.ServerText t = Wire.parseServerText(text);
                assertEquals(f.get("kind").asText(), t.kind());
                switch (t.kind()) {
                    case "OK" -> {
                        assertEquals(f.get("op").asText(), t.op());
                        assertEquals(f.get("tenant").asText(), t.tenant());
                        assertEquals(f.get("pattern").asText(), t.pattern());
                    }
                    case "ERR" -> {
                        assertEquals(f.get("code").asText(), t.code());
                        assertEquals(f.has("detail") ? f.get("detail").asText() : null, t.detail());
                    }
                    case "unknown" -> assertEquals(f.get("text").asText(), t.text());
                    default -> { }
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> nameVectors() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : suite("names.json")) {
            String kind = v.get("kind").asText();
            String input = v.get("input").asText();
            tests.add(DynamicTest.dynamicTest(kind + " " + v.get("name").asText(), () -> {
                Wire.WireCheck check = switch (kind) {
                    case "tenant" -> Wire::validateTenant;
                    case "channel" -> Wire::validateChannel;
                    case "pattern" -> Wire::validatePattern;
                    default -> throw new AssertionError("unknown kind " + kind);
                };
                if (v.has("error")) {
                    Wire.WireException e = assertThrows(Wire.WireException.class, () -> check.check(input));
                    assertEquals(v.get("error").asText(), e.code());
                } else {
                    check.check(input);
                }
            }));
        }
        return tests.stream();
    }
}
