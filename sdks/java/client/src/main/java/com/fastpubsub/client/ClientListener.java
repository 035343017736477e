package com.fastpubsub.client;

import java.time.Duration;

/**
 * Client events, delivered one at a time in order on an SDK thread (never while the SDK holds a
 * lock). Override what you need; keep the methods short.
 */
public interface ClientListener {
    /** Every state change. */
    default void onState(ClientState state) {}

    /** A connection became active: the first one, or a new one after a reconnect or migration. */
    default void onConnected(Edge edge, boolean migration) {}

    /** A reconnect attempt failed; the next one starts after {@code delay}. */
    default void onReconnecting(int attempt, Duration delay, FastPubSubException error) {}

    /** A non-fatal error: an {@code ERR:} line from the edge, a failed token refresh, … */
    default void onError(FastPubSubException error) {}

    /** A new PING/PONG round trip. */
    default void onRtt(Duration rtt) {}

    /** The token provider was asked for a token. */
    default void onTokenRequested(TokenReason reason) {}

    /** The client ended for good: {@code error} is null after close(), else the terminal error. */
    default void onClosed(FastPubSubException error) {}
}
