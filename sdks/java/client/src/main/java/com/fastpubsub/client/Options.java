package com.fastpubsub.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Connect options, immutable: every {@code withX}/setter returns a copy. Start from
 * {@link #withToken(String)} or {@link #withTokenProvider(TokenProvider)}.
 */
public final class Options {
    String token;
    Instant tokenExpiresAt;
    TokenProvider tokenProvider;
    Duration tokenRefreshMargin = Duration.ofSeconds(30);
    boolean reconnect = true;
    Duration reconnectBaseDelay = Duration.ofMillis(250);
    Duration reconnectMaxDelay = Duration.ofSeconds(10);
    int maxReconnectAttempts = Integer.MAX_VALUE;
    Duration overlap = Duration.ofSeconds(5);
    int publishQueueSize = 1000;
    QueuePolicy publishQueuePolicy = QueuePolicy.DROP_OLDEST;
    Duration pingInterval = Duration.ofSeconds(5);
    Duration pingTimeout = Duration.ofSeconds(10);
    boolean ping = true;
    Duration openTimeout = Duration.ofSeconds(10);
    Duration resubscribeTimeout = Duration.ofSeconds(10);
    int subscriptionBufferSize = 1024;
    ClientListener listener = new ClientListener() {};

    private Options() {}

    private Options copy() {
        Options o = new Options();
        o.token = token;
        o.tokenExpiresAt = tokenExpiresAt;
        o.tokenProvider = tokenProvider;
        o.tokenRefreshMargin = tokenRefreshMargin;
        o.reconnect = reconnect;
        o.reconnectBaseDelay = reconnectBaseDelay;
        o.reconnectMaxDelay = reconnectMaxDelay;
        o.maxReconnectAttempts = maxReconnectAttempts;
        o.overlap = overlap;
        o.publishQueueSize = publishQueueSize;
        o.publishQueuePolicy = publishQueuePolicy;
        o.pingInterval = pingInterval;
        o.pingTimeout = pingTimeout;
        o.ping = ping;
        o.openTimeout = openTimeout;
        o.resubscribeTimeout = resubscribeTimeout;
        o.subscriptionBufferSize = subscriptionBufferSize;
        o.listener = listener;
        return o;
    }

    private static Duration nonNegative(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) throw FastPubSubException.badArgument(name + " must be ≥ 0, got " + d);
        return d;
    }

    /** A copy with one change applied: every setter leaves the receiver as it was. */
    private Options with(Consumer<Options> change) {
        Options o = copy();
        change.accept(o);
        return o;
    }

    private static int atLeast(String name, int v, int min) {
        if (v < min) throw FastPubSubException.badArgument(name + " must be ≥ " + min + ", got " + v);
        return v;
    }

    /** A fixed access token ({@code AT_…}). */
    public static Options withToken(String token) {
        if (token == null || token.isEmpty()) throw FastPubSubException.badArgument("empty token");
        Options o = new Options();
        o.token = token;
        return o;
    }

    /** Tokens from a provider (asked at start, before expiry, and after a 401 on reconnect). */
    public static Options withTokenProvider(TokenProvider provider) {
        Options o = new Options();
        o.tokenProvider = Objects.requireNonNull(provider, "provider");
        return o;
    }

    /** Adds a provider to a fixed token: the token is used first, the provider for refreshes. */
    public Options tokenProvider(TokenProvider provider) {
        return with(o -> o.tokenProvider = Objects.requireNonNull(provider, "provider"));
    }

    /** The expiry of the fixed token, so the provider is asked for a new one in time. */
    public Options tokenExpiresAt(Instant expiresAt) {
        return with(o -> o.tokenExpiresAt = expiresAt);
    }

    /** Ask for a new token this long before expiry (default 30 s; at most half the remaining lifetime). */
    public Options tokenRefreshMargin(Duration margin) {
        return with(o -> o.tokenRefreshMargin = nonNegative("tokenRefreshMargin", margin));
    }

    /** Full-jitter backoff: attempt n waits a uniform random time in [0, min(max, base·2ⁿ⁻¹)]. */
    public Options reconnect(Duration baseDelay, Duration maxDelay) {
        return with(o -> {
            o.reconnectBaseDelay = nonNegative("reconnect base delay", baseDelay);
            o.reconnectMaxDelay = nonNegative("reconnect max delay", maxDelay);
        });
    }

    /** Give up (the client closes with the last error) after this many failed attempts (default unlimited). */
    public Options maxReconnectAttempts(int attempts) {
        return with(o -> o.maxReconnectAttempts = atLeast("maxReconnectAttempts", attempts, 1));
    }

    /** Disables reconnecting: a lost connection closes the client. */
    public Options noReconnect() {
        return with(o -> o.reconnect = false);
    }

    /** How long an old connection is still read after a switch (default 5 s, contract §6). */
    public Options overlap(Duration overlap) {
        return with(o -> o.overlap = nonNegative("overlap", overlap));
    }

    /** The bounded publish queue used while disconnected (default 1000 messages, drop oldest). */
    public Options publishQueue(int maxMessages, QueuePolicy policy) {
        return with(o -> {
            o.publishQueueSize = atLeast("publishQueue size", maxMessages, 0);
            o.publishQueuePolicy = Objects.requireNonNull(policy, "policy");
        });
    }

    /** PING every {@code interval}; the connection counts as lost after {@code timeout} without PONG. */
    public Options ping(Duration interval, Duration timeout) {
        return with(o -> {
            o.pingInterval = nonNegative("ping interval", interval);
            o.pingTimeout = nonNegative("ping timeout", timeout);
            o.ping = true;
        });
    }

    public Options noPing() {
        return with(o -> o.ping = false);
    }

    /** Bound on opening one connection (default 10 s). */
    public Options openTimeout(Duration timeout) {
        return with(o -> o.openTimeout = nonNegative("openTimeout", timeout));
    }

    /** Bound on getting OK:SUB for every subscription on a new connection, and for subscribe() (default 10 s). */
    public Options resubscribeTimeout(Duration timeout) {
        return with(o -> o.resubscribeTimeout = nonNegative("resubscribeTimeout", timeout));
    }

    /** Default per-subscription buffer (messages; default 1024; the oldest is dropped and counted when full). */
    public Options subscriptionBuffer(int size) {
        return with(o -> o.subscriptionBufferSize = atLeast("subscriptionBuffer size", size, 1));
    }

    public Options listener(ClientListener listener) {
        return with(o -> o.listener = Objects.requireNonNull(listener, "listener"));
    }
}
