package com.fastpubsub.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client against a real relay: publish/subscribe, patterns, payloads, validation, server errors. */
@Timeout(60)
class ClientIntegrationTest {
    static RelayProcess relay;
    static final Duration WAIT = Duration.ofSeconds(5);

    @BeforeAll
    static void startRelay() throws Exception {
        relay = RelayProcess.start();
    }

    @AfterAll
    static void stopRelay() throws Exception {
        if (relay != null) relay.close();
    }

    static FastPubSub connect(Options o) throws Exception {
        return FastPubSub.connect(relay.url(), o).get(15, TimeUnit.SECONDS);
    }

    static FastPubSubException failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof FastPubSubException, "cause is " + e.getCause());
        return (FastPubSubException) e.getCause();
    }

    @Test
    void echoThroughTheRelay() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()))) {
            assertEquals(ClientState.CONNECTED, client.state());
            assertEquals(relay.url(), client.edge().httpUri());
            Subscription sub = client.subscribe("demo", "chat.#").get(5, TimeUnit.SECONDS);
            client.publish("demo", "chat.room1", "hello".getBytes(UTF_8)).get(5, TimeUnit.SECONDS);
            Message m = sub.next(WAIT);
            assertEquals("demo", m.tenant());
            assertEquals("chat.room1", m.channel());
            assertEquals("hello", m.text());
            assertEquals(List.of("chat.#"), m.patterns());
            assertEquals(1, sub.stats().received());
            assertEquals(1, client.stats().published());
        }
    }

    @Test
    void wildcardPatternsAndTheMatchedPatternList() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()))) {
            Subscription all = client.subscribe("demo", "a.#").get(5, TimeUnit.SECONDS);
            Subscription star = client.subscribe("demo", "a.b.*").get(5, TimeUnit.SECONDS);
            client.publish("demo", "a.b.c", new byte[] {1}).get();
            Message m1 = all.next(WAIT);
            Message m2 = star.next(WAIT);
            assertEquals(Set.of("a.#", "a.b.*"), new HashSet<>(m1.patterns()));
            assertEquals("a.#", m1.pattern());
            assertEquals("a.b.*", m2.pattern());
            client.publish("demo", "a.b", new byte[] {2}).get();
            Message m3 = all.next(WAIT);
            assertEquals(List.of("a.#"), m3.patterns());
            assertNull(star.poll(), "a.b.* must not match a.b");
        }
    }

    @Test
    void unsubscribeStopsDelivery() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()))) {
            Subscription gone = client.subscribe("demo", "u.x").get(5, TimeUnit.SECONDS);
            Subscription stays = client.subscribe("demo", "u.#").get(5, TimeUnit.SECONDS);
            gone.unsubscribe().get();
            client.publish("demo", "u.x", new byte[] {7}).get();
            assertEquals("u.x", stays.next(WAIT).channel());
            FastPubSubException e = assertThrows(FastPubSubException.class, () -> gone.next(Duration.ofMillis(300)));
            assertEquals(ErrorCode.CLOSED, e.code());
            assertEquals(0, gone.stats().received());
        }
    }

    @Test
    void binaryPayloadsArriveByteExact() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()))) {
            Subscription sub = client.subscribe("demo", "bin").get(5, TimeUnit.SECONDS);
            for (int size : new int[] {0, 1, 65_535}) {
                byte[] payload = new byte[size];
                for (int i = 0; i < size; i++) payload[i] = (byte) (i * 31 + 7);
                client.publish("demo", "bin", payload).get();
                assertArrayEquals(payload, sub.next(WAIT).payload(), "payload of " + size + " bytes");
            }
        }
    }

    @Test
    void badInputIsRefusedBeforeSending() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()))) {
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.publish("demo", "a.*", new byte[0])).code());
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.publish("demo", "a.#", new byte[0])).code());
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.publish("", "a", new byte[0])).code());
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.publish("demo", "a", new byte[65_536])).code());
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.subscribe("demo", " ")).code());
            assertEquals(ErrorCode.BAD_ARGUMENT, failure(client.subscribe("", "a.#")).code());
            assertEquals(0, client.stats().published(), "nothing was handed to the connection");
        }
    }

    @Test
    void forbiddenPublishAndSubscribeGiveServerErrorsAndTheConnectionLivesOn() throws Exception {
        LinkedBlockingQueue<FastPubSubException> errors = new LinkedBlockingQueue<>();
        String token = relay.token("demo", List.of("ok.#"), List.of("ok.#"), Duration.ofHours(1));
        Options o = Options.withToken(token).listener(new ClientListener() {
            @Override
            public void onError(FastPubSubException error) {
                errors.add(error);
            }
        });
        try (FastPubSub client = connect(o)) {
            FastPubSubException denied = failure(client.subscribe("demo", "secret.#"));
            assertEquals(ErrorCode.SERVER, denied.code());
            assertEquals("permission_denied", denied.serverCode());
            client.publish("demo", "secret.x", new byte[] {1}).get();
            FastPubSubException e = errors.poll(5, TimeUnit.SECONDS);
            assertNotNull(e, "an ERR: for the forbidden publish");
            assertEquals(ErrorCode.SERVER, e.code());
            assertEquals("permission_denied", e.serverCode());
            Subscription ok = client.subscribe("demo", "ok.#").get(5, TimeUnit.SECONDS);
            client.publish("demo", "ok.1", new byte[] {2}).get();
            assertEquals("ok.1", ok.next(WAIT).channel());
            assertEquals(ClientState.CONNECTED, client.state());
        }
    }

    @Test
    void badTokenIsUnauthorized() {
        FastPubSubException e = failure(FastPubSub.connect(relay.url(), Options.withToken("AT_0123_nope")));
        assertEquals(ErrorCode.UNAUTHORIZED, e.code());
        assertEquals(401, e.status());
    }

    @Test
    void deliverOneReachesExactlyOneSubscriber() throws Exception {
        String token = relay.token();
        try (FastPubSub a = connect(Options.withToken(token)); FastPubSub b = connect(Options.withToken(token))) {
            Subscription sa = a.subscribe("demo", "one.#").get(5, TimeUnit.SECONDS);
            Subscription sb = b.subscribe("demo", "one.#").get(5, TimeUnit.SECONDS);
            int n = 40;
            for (int i = 0; i < n; i++) a.publish("demo", "one.x", new byte[] {(byte) i}, i % 2 == 0 ? DeliveryMode.ONE_RANDOM : DeliveryMode.ONE_LOW_LATENCY).get();
            a.publish("demo", "one.end", new byte[0]).get();
            a.flush().get(5, TimeUnit.SECONDS);
            int got = 0;
            for (Subscription s : List.of(sa, sb)) {
                while (true) {
                    Message m = s.next(WAIT);
                    if (m.channel().equals("one.end")) break;
                    got++;
                }
            }
            assertEquals(n, got, "each deliver-one message reached exactly one of the two subscribers");
        }
    }

    @Test
    void fastestEdgeIsChosenAmongCandidates() throws Exception {
        URI dead = URI.create("http://127.0.0.1:9");
        try (FastPubSub client = FastPubSub.connect(List.of(dead, relay.url()), Options.withToken(relay.token())).get(15, TimeUnit.SECONDS)) {
            assertEquals(relay.url(), client.edge().httpUri());
        }
        FastPubSubException none = failure(FastPubSub.connect(List.of(dead, URI.create("http://127.0.0.1:1")), Options.withToken("AT_a_b")));
        assertEquals(ErrorCode.NO_EDGE, none.code());
    }

    @Test
    void pingMeasuresTheRoundTrip() throws Exception {
        try (FastPubSub client = connect(Options.withToken(relay.token()).ping(Duration.ofMillis(50), Duration.ofSeconds(5)))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (client.rtt().isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(client.rtt().isPresent(), "an RTT sample within 5 s");
            assertTrue(client.rtt().get().toMillis() < 2000, "loopback RTT " + client.rtt().get());
        }
    }

    @Test
    void tokenRestHelpers() throws Exception {
        Tokens admin = Tokens.of(relay.url().toString(), RelayProcess.MASTER);
        String token = admin.create("demo", List.of("#"), List.of("#"), Duration.ofMinutes(10)).get(10, TimeUnit.SECONDS);
        assertTrue(token.startsWith("AT_"), token);
        Tokens.Refreshed r = admin.refresh(Tokens.tokenId(token), java.time.Instant.now().plus(Duration.ofHours(1))).get(10, TimeUnit.SECONDS);
        assertNotNull(r.message());
        assertNotNull(r.newExpiresAt());
        FastPubSubException tooLong = failure(admin.create("demo", List.of("#"), List.of("#"), Duration.ofHours(25)));
        assertEquals(ErrorCode.HTTP, tooLong.code());
        assertEquals(400, tooLong.status());
        FastPubSubException badMaster = failure(Tokens.of(relay.url().toString(), "not-the-master-token-0123456789abcdef").create("demo", List.of("#"), List.of("#"), Duration.ofMinutes(1)));
        assertEquals(ErrorCode.UNAUTHORIZED, badMaster.code());
        assertNotNull(admin.revoke(token).get(10, TimeUnit.SECONDS));
        assertEquals(ErrorCode.UNAUTHORIZED, failure(FastPubSub.connect(relay.url(), Options.withToken(token))).code(), "a revoked token gets 401");
    }

    @Test
    void closeEndsSubscriptionsAndRefusesFurtherCalls() throws Exception {
        FastPubSub client = connect(Options.withToken(relay.token()));
        Subscription sub = client.subscribe("demo", "closing").get(5, TimeUnit.SECONDS);
        client.close();
        assertEquals(ClientState.CLOSED, client.state());
        assertNull(client.closed().get(1, TimeUnit.SECONDS), "closed by the app: no error");
        assertEquals(ErrorCode.CLOSED, assertThrows(FastPubSubException.class, () -> sub.next(Duration.ofMillis(100))).code());
        assertEquals(ErrorCode.CLOSED, failure(client.publish("demo", "x", new byte[0])).code());
        assertEquals(ErrorCode.CLOSED, failure(client.subscribe("demo", "x")).code());
    }
}
