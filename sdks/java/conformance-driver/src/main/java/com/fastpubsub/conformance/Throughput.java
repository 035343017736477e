package com.fastpubsub.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fastpubsub.client.FastPubSub;
import com.fastpubsub.client.FastPubSubException;
import com.fastpubsub.client.Subscription;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The throughput command: subscribe, publish {@code count} payloads of {@code size} bytes as fast as
 * the SDK allows, count them back. At most {@code WINDOW} messages are in flight end to end
 * (published, not yet received): without that bound a publisher outruns its own subscription and
 * the relay's per-connection queue drops deliveries, as it should for a slow consumer.
 */
final class Throughput {
    private static final int WINDOW = 2048;

    private Throughput() {}

    static ObjectNode run(Driver.ClientCtx c, JsonNode cmd) {
        FastPubSub client = c.client;
        String tenant = cmd.path("tenant").asText();
        String channel = cmd.path("channel").asText();
        int count = cmd.path("count").asInt(10_000);
        int size = cmd.path("size").asInt(256);
        long timeoutMs = cmd.path("timeoutMs").asLong(60_000);
        try {
            Subscription sub = client.subscribe(tenant, channel, Math.max(1, count)).get(10, TimeUnit.SECONDS);
            try {
                AtomicLong received = new AtomicLong();
                CompletableFuture<Void> all = new CompletableFuture<>();
                Semaphore window = new Semaphore(WINDOW);
                sub.onMessage(m -> {
                    window.release();
                    if (received.incrementAndGet() >= count) all.complete(null);
                });
                byte[] payload = new byte[size];
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
                long start = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !window.tryAcquire(left, TimeUnit.NANOSECONDS)) break;
                    client.publish(tenant, channel, payload).whenComplete((v, e) -> {
                        if (e != null) window.release(); // never arrives
                    });
                }
                long left = Math.max(0, deadline - System.nanoTime());
                try {
                    all.get(left, TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // report what arrived
                }
                double seconds = Duration.ofNanos(System.nanoTime() - start).toNanos() / 1e9;
                long got = received.get();
                return Driver.JSON.createObjectNode().put("received", got).put("seconds", seconds)
                        .put("messagesPerSecond", seconds > 0 ? got / seconds : 0);
            } finally {
                sub.unsubscribe();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw FastPubSubException.from(e);
        } catch (Exception e) {
            throw FastPubSubException.from(e);
        }
    }
}
