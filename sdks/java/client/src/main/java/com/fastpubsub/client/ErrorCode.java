package com.fastpubsub.client;

/** Stable error codes, the same in every FastPubSub SDK (the TypeScript SDK's ClientErrorCode). */
public enum ErrorCode {
    /** Invalid tenant, channel, pattern, payload or option given to the SDK; nothing was sent. */
    BAD_ARGUMENT("bad_argument"),
    /** The publish queue is full (only with the {@code ERROR} queue policy). */
    QUEUE_FULL("queue_full"),
    /** The client or the subscription is closed. */
    CLOSED("closed"),
    /** The caller cancelled the operation. */
    ABORTED("aborted"),
    /** A bounded wait expired. */
    TIMEOUT("timeout"),
    /** No candidate edge answered {@code GET /ping} with {@code pong}. */
    NO_EDGE("no_edge"),
    /** A discovery document was unusable. */
    DISCOVERY_FAILED("discovery_failed"),
    /** The transport could not be opened, or it closed. */
    CONNECT_FAILED("connect_failed"),
    /** The edge answered 401: bad, expired or revoked token. */
    UNAUTHORIZED("unauthorized"),
    /** The edge answered 403. */
    FORBIDDEN("forbidden"),
    /** The edge broke the contract (e.g. wrong subprotocol, non-JSON REST reply). */
    PROTOCOL("protocol"),
    /** The token provider failed. */
    TOKEN_PROVIDER("token_provider"),
    /** A REST call answered non-2xx. */
    HTTP("http"),
    /** An {@code ERR:} line from the edge; see {@link FastPubSubException#serverCode()}. */
    SERVER("server");

    private final String wire;

    ErrorCode(String wire) {
        this.wire = wire;
    }

    /** The code as every SDK spells it, e.g. {@code bad_argument}. */
    public String wireName() {
        return wire;
    }

    @Override
    public String toString() {
        return wire;
    }
}
