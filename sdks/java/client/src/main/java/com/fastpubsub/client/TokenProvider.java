package com.fastpubsub.client;

import java.util.concurrent.CompletableFuture;

/**
 * Supplies access tokens: at start when no token was given, before a known expiry, after
 * {@code ERR:token_expired} and after a 401 on reconnect. Called from SDK threads; it must not block.
 */
@FunctionalInterface
public interface TokenProvider {
    CompletableFuture<Token> token(TokenReason reason);
}
