package com.fastpubsub.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fastpubsub.client.ErrorCode;
import com.fastpubsub.client.FastPubSubException;
import com.fastpubsub.client.Message;
import com.fastpubsub.client.Subscription;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/** The subscription and publish commands of the driver. */
final class Ops {
    private Ops() {}

    static CompletableFuture<ObjectNode> subscribe(Driver d, Driver.ClientCtx c, JsonNode cmd) {
        String name = cmd.path("sub").asText();
        boolean paused = cmd.path("paused").asBoolean(false);
        String tenant = cmd.path("tenant").asText("");
        String pattern = cmd.path("pattern").asText("");
        CompletableFuture<Subscription> f = cmd.has("bufferSize")
                ? c.client.subscribe(tenant, pattern, cmd.get("bufferSize").asInt())
                : c.client.subscribe(tenant, pattern);
        return f.thenApply(sub -> {
            Subscription old = c.subs.put(name, sub);
            if (old != null) old.unsubscribe();
            if (!paused) consume(d, c, name, sub);
            return Driver.JSON.createObjectNode();
        });
    }

    static void consume(Driver d, Driver.ClientCtx c, String name, Subscription sub) {
        sub.onMessage(m -> d.emit(messageEvent(c.name, name, m)));
    }

    static ObjectNode messageEvent(String client, String sub, Message m) {
        ObjectNode e = Driver.JSON.createObjectNode()
                .put("event", "message").put("client", client).put("sub", sub)
                .put("tenant", m.tenant()).put("channel", m.channel())
                .put("payload", Base64.getEncoder().encodeToString(m.payload()));
        m.patterns().forEach(e.putArray("patterns")::add);
        return e;
    }

    static CompletableFuture<ObjectNode> unsubscribe(Driver.ClientCtx c, JsonNode cmd) {
        Subscription sub = c.subs.remove(cmd.path("sub").asText());
        if (sub == null) throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "no subscription \"" + cmd.path("sub").asText() + "\"");
        return sub.unsubscribe().thenApply(v -> Driver.JSON.createObjectNode());
    }

    static CompletableFuture<ObjectNode> resume(Driver d, Driver.ClientCtx c, JsonNode cmd) {
        String name = cmd.path("sub").asText();
        Subscription sub = c.subs.get(name);
        if (sub == null) throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "no subscription \"" + name + "\"");
        consume(d, c, name, sub);
        return CompletableFuture.completedFuture(Driver.JSON.createObjectNode());
    }

    static CompletableFuture<ObjectNode> publish(Driver.ClientCtx c, JsonNode cmd) {
        return c.client.publish(cmd.path("tenant").asText(""), cmd.path("channel").asText(""), Driver.payload(cmd),
                        Driver.mode(cmd.path("delivery").asText("broadcast")))
                .thenApply(v -> Driver.JSON.createObjectNode());
    }
}
