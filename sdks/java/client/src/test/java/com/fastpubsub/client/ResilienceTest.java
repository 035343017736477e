package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Reconnect, token refresh, revocation, queues and buffers, each against a real relay. */
@Timeout(90)
class ResilienceTest {
    static byte[] seq(int i) {
        return ByteBuffer.allocate(4).putInt(i).array();
    }

    static int seqOf(Message m) {
        return ByteBuffer.wrap(m.payload()).getInt();
    }

    /** Reads until {@code want} distinct sequence numbers arrived; fails on a duplicate. */
    static List<Integer> collect(Subscription sub, int want, Duration timeout) throws InterruptedException {
        List<Integer> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (got.size() < want) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            try {
                got.add(seqOf(sub.next(Duration.ofNanos(left))));
            } catch (FastPubSubException e) {
                if (e.code() != ErrorCode.TIMEOUT) throw e;
            }
        }
        return got;
    }

    /** Every number 0..n-1 exactly once. */
    static void assertExactlyOnce(int n, List<Integer> got) {
        java.util.Map<Integer, Integer> seen = new java.util.TreeMap<>();
        for (int g : got) seen.merge(g, 1, Integer::sum);
        List<Integer> dups = new ArrayList<>();
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = seen.getOrDefault(i, 0);
            if (k == 0) missing.add(i);
            if (k > 1) dups.add(i);
        }
        assertTrue(dups.isEmpty() && missing.isEmpty(), "of " + n + ": duplicated " + dups + ", missing " + missing);
        List<Integer> sorted = new ArrayList<>(got);
        java.util.Collections.sort(sorted);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) expected.add(i);
        assertEquals(expected, sorted, "every message exactly once");
    }

    static void awaitTrue(String what, Duration timeout, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void relayRestartRestoresSubscriptionsAndFlushesTheQueue() throws Exception {
        try (RelayProcess relay = RelayProcess.start()) {
            Options o = Options.withToken(relay.token()).reconnect(Duration.ofMillis(50), Duration.ofMillis(400));
            try (FastPubSub client = FastPubSub.connect(relay.url(), o).get(15, TimeUnit.SECONDS)) {
                Subscription sub = client.subscribe("demo", "r.#").get(5, TimeUnit.SECONDS);
                client.publish("demo", "r.x", seq(0)).get();
                assertEquals(List.of(0), collect(sub, 1, Duration.ofSeconds(5)));

                relay.stop(false);
                awaitTrue("the client notices the loss", Duration.ofSeconds(10), () -> client.state() == ClientState.RECONNECTING);
                for (int i = 1; i <= 5; i++) client.publish("demo", "r.x", seq(i)).get(); // queued
                assertEquals(5, client.stats().queued());
                relay.restart();
                awaitTrue("reconnected", Duration.ofSeconds(20), () -> client.state() == ClientState.CONNECTED);
                client.publish("demo", "r.x", seq(6)).get();
                List<Integer> got = collect(sub, 6, Duration.ofSeconds(10));
                assertEquals(List.of(1, 2, 3, 4, 5, 6), got, "queued publishes flushed in order, subscription restored");
                assertEquals(1, client.stats().reconnects());
                assertEquals(0, client.stats().queued());
            }
        }
    }

    @Test
    void publishQueueIsBoundedAndCountsDrops() throws Exception {
        try (RelayProcess relay = RelayProcess.start()) {
            Options o = Options.withToken(relay.token()).reconnect(Duration.ofMillis(50), Duration.ofMillis(200)).publishQueue(3, QueuePolicy.DROP_OLDEST);
            try (FastPubSub client = FastPubSub.connect(relay.url(), o).get(15, TimeUnit.SECONDS)) {
                Subscription sub = client.subscribe("demo", "q").get(5, TimeUnit.SECONDS);
                relay.stop(false);
                awaitTrue("the client notices the loss", Duration.ofSeconds(10), () -> client.state() == ClientState.RECONNECTING);
                for (int i = 0; i < 5; i++) client.publish("demo", "q", seq(i)).get();
                assertEquals(3, client.stats().queued());
                assertEquals(2, client.stats().queueDropped());
                relay.restart();
                assertEquals(List.of(2, 3, 4), collect(sub, 3, Duration.ofSeconds(20)), "the oldest two were dropped");
            }
        }
    }

    @Test
    void tokenRefreshedByTheProviderMigratesWithoutLossOrDuplicates() throws Exception {
        try (RelayProcess relay = RelayProcess.start()) {
            Tokens tokens = Tokens.of(relay.url().toString(), RelayProcess.MASTER);
            AtomicInteger asked = new AtomicInteger();
            TokenProvider provider = reason -> {
                asked.incrementAndGet();
                Instant expiresAt = Instant.now().plusSeconds(4);
                return tokens.create(List.of(new Tokens.Grant(List.of("demo"), List.of("#"), List.of("#"))), expiresAt, "java-tests", null)
                        .thenApply(t -> new Token(t, expiresAt));
            };
            CopyOnWriteArrayList<Boolean> migrations = new CopyOnWriteArrayList<>();
            Options o = Options.withTokenProvider(provider).listener(new ClientListener() {
                @Override
                public void onConnected(Edge edge, boolean migration) {
                    migrations.add(migration);
                }
            });
            try (FastPubSub sub = FastPubSub.connect(relay.url(), o).get(15, TimeUnit.SECONDS);
                    FastPubSub pub = FastPubSub.connect(relay.url(), Options.withToken(relay.token())).get(15, TimeUnit.SECONDS)) {
                Subscription s = sub.subscribe("demo", "tok.#", 100_000).get(5, TimeUnit.SECONDS);
                int n = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("fastpubsub.tokenTestSeconds", 5));
                while (System.nanoTime() < end) {
                    pub.publish("demo", "tok.x", seq(n++)).get();
                    Thread.sleep(5);
                }
                List<Integer> got = collect(s, n, Duration.ofSeconds(10));
                assertExactlyOnce(n, got);
                for (int i = 1; i < got.size(); i++) {
                    if (got.get(i) < got.get(i - 1)) {
                        throw new AssertionError("out of order at " + i + ": " + got.subList(Math.max(0, i - 5), Math.min(got.size(), i + 5)));
                    }
                }
                assertNull(s.poll(), "nothing after the last one (no duplicate)");
                assertEquals(0, s.stats().dropped());
                assertTrue(asked.get() >= 2, "the provider was asked again before expiry (asked " + asked.get() + ")");
                assertTrue(migrations.contains(true), "a make-before-break migration happened: " + migrations);
                assertTrue(sub.stats().reconnects() >= 1);
            }
        }
    }

    @Test
    void revokedTokenEndsTheClientWithUnauthorized() throws Exception {
        try (RelayProcess relay = RelayProcess.start()) {
            String token = relay.token();
            Options o = Options.withToken(token).reconnect(Duration.ofMillis(20), Duration.ofMillis(100));
            FastPubSub client = FastPubSub.connect(relay.url(), o).get(15, TimeUnit.SECONDS);
            Tokens.of(relay.url().toString(), RelayProcess.MASTER).revoke(token).get(10, TimeUnit.SECONDS);
            FastPubSubException end = client.closed().get(15, TimeUnit.SECONDS);
            assertNotNull(end, "closed with an error");
            assertEquals(ErrorCode.UNAUTHORIZED, end.code());
            assertEquals(ClientState.CLOSED, client.state());
        }
    }

    @Test
    void slowConsumerDropsAreCounted() throws Exception {
        try (RelayProcess relay = RelayProcess.start();
                FastPubSub client = FastPubSub.connect(relay.url(), Options.withToken(relay.token())).get(15, TimeUnit.SECONDS)) {
            Subscription sub = client.subscribe("demo", "slow", 10).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 50; i++) client.publish("demo", "slow", seq(i)).get();
            awaitTrue("all 50 received", Duration.ofSeconds(10), () -> sub.stats().received() == 50);
            assertEquals(40, sub.stats().dropped());
            assertEquals(10, sub.stats().buffered());
            assertEquals(40, seqOf(sub.next(Duration.ofSeconds(1))), "the oldest were dropped");
        }
    }

    @Test
    void onMessageCallbackGetsBufferedMessagesFirstThenTheRest() throws Exception {
        try (RelayProcess relay = RelayProcess.start();
                FastPubSub client = FastPubSub.connect(relay.url(), Options.withToken(relay.token())).get(15, TimeUnit.SECONDS)) {
            Subscription sub = client.subscribe("demo", "cb").get(5, TimeUnit.SECONDS);
            client.publish("demo", "cb", seq(0)).get();
            awaitTrue("buffered", Duration.ofSeconds(5), () -> sub.stats().received() == 1);
            CopyOnWriteArrayList<Integer> got = new CopyOnWriteArrayList<>();
            sub.onMessage(m -> got.add(seqOf(m)));
            client.publish("demo", "cb", seq(1)).get();
            awaitTrue("two callbacks", Duration.ofSeconds(5), () -> got.size() == 2);
            assertEquals(List.of(0, 1), got);
        }
    }
}
