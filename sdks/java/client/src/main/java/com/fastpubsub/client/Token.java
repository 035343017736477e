package com.fastpubsub.client;

import java.time.Instant;

/** An access token and, when known, its expiry (so the SDK refreshes it in time). */
public record Token(String value, Instant expiresAt) {
    public static Token of(String value) {
        return new Token(value, null);
    }
}
