package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Pure parts: edge URLs, backoff, option checks, the publish queue, error unwrapping. */
class UnitTest {
    @Test
    void edgeUrls() {
        assertEquals(new Edge(URI.create("http://127.0.0.1:7700"), URI.create("ws://127.0.0.1:7700/ws")), Edge.parse("http://127.0.0.1:7700"));
        assertEquals(new Edge(URI.create("https://h.example"), URI.create("wss://h.example/ws")), Edge.parse("h.example"));
        assertEquals(URI.create("wss://h:9/custom"), Edge.parse("wss://h:9/custom").wsUri());
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> Edge.parse("ftp://h")).code());
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> Edge.parse(" ")).code());
    }

    @Test
    void backoffIsFullJitterWithinTheCap() {
        Duration base = Duration.ofMillis(100);
        Duration max = Duration.ofMillis(1000);
        Set<Long> seen = new HashSet<>();
        for (int attempt = 1; attempt <= 10; attempt++) {
            long cap = Math.min(1000, 100L << (attempt - 1));
            for (int i = 0; i < 200; i++) {
                long d = Reconnector.backoff(attempt, base, max).toMillis();
                assertTrue(d >= 0 && d <= cap, "attempt " + attempt + ": " + d + " ms outside [0, " + cap + "]");
                seen.add(d);
            }
        }
        assertTrue(seen.size() > 50, "delays are spread (full jitter), got " + seen.size() + " distinct values");
    }

    @Test
    void optionsRejectNonsense() {
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> Options.withToken("")).code());
        Options o = Options.withToken("AT_a_b");
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> o.reconnect(Duration.ofMillis(-1), Duration.ZERO)).code());
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> o.subscriptionBuffer(0)).code());
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> o.publishQueue(-1, QueuePolicy.DROP_OLDEST)).code());
    }

    @Test
    void optionsSettersReturnChangedCopiesAndLeaveTheReceiverAlone() {
        Options base = Options.withToken("AT_a_b");
        Options changed = base.overlap(Duration.ofSeconds(1)).ping(Duration.ofMillis(100), Duration.ofMillis(900)).noReconnect()
                .publishQueue(7, QueuePolicy.DROP_NEWEST).subscriptionBuffer(3);
        assertEquals(Duration.ofSeconds(5), base.overlap);
        assertTrue(base.reconnect);
        assertEquals(1000, base.publishQueueSize);
        assertEquals(Duration.ofSeconds(1), changed.overlap);
        assertEquals(Duration.ofMillis(100), changed.pingInterval);
        assertEquals(Duration.ofMillis(900), changed.pingTimeout);
        assertEquals(false, base.noPing().ping);
        assertTrue(base.ping);
        assertEquals(false, changed.reconnect);
        assertEquals(7, changed.publishQueueSize);
        assertEquals(QueuePolicy.DROP_NEWEST, changed.publishQueuePolicy);
        assertEquals(3, changed.subscriptionBufferSize);
        assertEquals("AT_a_b", changed.token);
    }

    @Test
    void publishQueuePolicies() {
        PublishQueue newest = new PublishQueue(2, QueuePolicy.DROP_NEWEST);
        for (int i = 0; i < 4; i++) newest.push(new PublishQueue.Item(new byte[] {(byte) i}));
        assertEquals(2, newest.size());
        assertEquals(2, newest.dropped());
        assertEquals(0, newest.drain().get(0).frame()[0]);
        PublishQueue strict = new PublishQueue(1, QueuePolicy.ERROR);
        strict.push(new PublishQueue.Item(new byte[0]));
        assertEquals(ErrorCode.QUEUE_FULL, assertThrows(FastPubSubException.class, () -> strict.push(new PublishQueue.Item(new byte[0]))).code());
    }

    @Test
    void tokenIdAndErrorCodes() {
        assertEquals("abc", Tokens.tokenId("AT_abc_def"));
        assertEquals(ErrorCode.BAD_ARGUMENT, assertThrows(FastPubSubException.class, () -> Tokens.tokenId("AT_abc")).code());
        assertEquals("permission_denied", FastPubSubException.server("permission_denied", "SUB:t:x").serverCode());
        assertEquals("bad_argument", ErrorCode.BAD_ARGUMENT.wireName());
        assertEquals("connect_failed", ErrorCode.CONNECT_FAILED.wireName());
    }
}
