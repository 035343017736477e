package com.fastpubsub.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The driver as the conformance runner sees it: a process speaking JSON lines. Only the parts that
 * need no relay (the runner's scenarios cover the rest against real relays).
 */
@Timeout(60)
class DriverProtocolTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readyRepliesErrorsAndExit() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Driver.class.getName()).start();
        try (Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            JsonNode ready = JSON.readTree(out.readLine());
            assertEquals("ready", ready.get("event").asText());
            assertEquals("java", ready.get("sdk").asText());
            assertEquals("[\"websocket\"]", ready.get("transports").toString());

            in.write("{\"id\":1,\"op\":\"nonsense\"}\n");
            in.write("{\"id\":2,\"op\":\"publish\",\"client\":\"nobody\",\"tenant\":\"t\",\"channel\":\"c\",\"payload\":\"\"}\n");
            in.write("{\"id\":3,\"op\":\"connect\",\"endpoint\":\"http://127.0.0.1:9\",\"token\":\"AT_a_b\"}\n");
            in.write("{\"id\":4,\"op\":\"connect\",\"endpoint\":\"http://127.0.0.1:9\",\"token\":\"AT_a_b\",\"transport\":\"quic\"}\n");
            in.flush();
            List<JsonNode> replies = new ArrayList<>();
            while (replies.size() < 4) {
                JsonNode line = JSON.readTree(out.readLine());
                if (line.has("id")) replies.add(line);
                else assertTrue(line.has("event"), "every stdout line is a reply or an event: " + line);
            }
            replies.sort((a, b) -> Integer.compare(a.get("id").asInt(), b.get("id").asInt()));
            for (JsonNode r : replies) assertFalse(r.get("ok").asBoolean(), r.toString());
            assertEquals("bad_argument", replies.get(0).get("error").get("code").asText());
            assertEquals("closed", replies.get(1).get("error").get("code").asText());
            assertEquals("connect_failed", replies.get(2).get("error").get("code").asText());
            assertTrue(replies.get(2).get("error").has("serverCode"), "serverCode is always present (null here)");
            assertEquals("bad_argument", replies.get(3).get("error").get("code").asText());

            in.write("{\"id\":5,\"op\":\"exit\"}\n");
            in.flush();
            JsonNode bye = null;
            for (String line; (line = out.readLine()) != null; ) {
                JsonNode n = JSON.readTree(line);
                if (n.has("id") && n.get("id").asInt() == 5) bye = n;
            }
            assertTrue(bye != null && bye.get("ok").asBoolean(), "exit is answered");
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the driver exits after exit");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }
}
