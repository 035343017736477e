package com.fastpubsub.client;

/** Why the SDK asks its token provider for a token. */
public enum TokenReason {
    /** No token yet. */
    INITIAL,
    /** The current token expires within the refresh margin. */
    EXPIRING,
    /** The current token has expired (or the edge said {@code ERR:token_expired}). */
    EXPIRED,
    /** The edge answered 401 on a (re)connect. */
    UNAUTHORIZED
}
