package com.fastpubsub.client;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client's current token and its refresh through the token provider: before a known expiry
 * (the margin, at most half the remaining lifetime), and on demand (start, 401, token_expired).
 * Concurrent refreshes share one provider call. After a refresh the client migrates to a
 * connection that uses the new token, make-before-break.
 */
final class TokenKeeper {
    private static final long PROVIDER_TIMEOUT_MS = 15_000;
    private static final long RETRY_AFTER_FAILURE_MS = 2_000;

    private final FastPubSub c;
    private volatile String token;
    private volatile Instant expiresAt;
    private CompletableFuture<Void> inFlight; // guarded by c.lock
    private ScheduledFuture<?> timer; // guarded by c.lock

    TokenKeeper(FastPubSub client) {
        this.c = client;
        this.token = client.opts.token;
        this.expiresAt = client.opts.tokenExpiresAt;
    }

    String current() {
        return token;
    }

    CompletableFuture<Void> refresh(TokenReason reason) {
        TokenProvider provider = c.opts.tokenProvider;
        if (provider == null) return CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.TOKEN_PROVIDER, "no token provider to refresh the token"));
        CompletableFuture<Void> result;
        synchronized (c.lock) {
            if (inFlight != null) return inFlight;
            result = new CompletableFuture<>();
            inFlight = result;
        }
        c.events.execute(() -> c.opts.listener.onTokenRequested(reason));
        CompletableFuture<Token> got;
        try {
            got = provider.token(reason);
            if (got == null) got = CompletableFuture.failedFuture(new IllegalStateException("the provider returned null"));
        } catch (RuntimeException e) {
            got = CompletableFuture.failedFuture(e);
        }
        got.orTimeout(PROVIDER_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((t, err) -> {
            synchronized (c.lock) {
                inFlight = null;
            }
            Throwable problem = err;
            if (problem == null && (t == null || t.value() == null || t.value().isEmpty())) problem = new IllegalStateException("the provider returned no token");
            if (problem != null) {
                Throwable cause = unwrap(problem);
                FastPubSubException e = cause instanceof FastPubSubException
                        ? (FastPubSubException) cause
                        : new FastPubSubException(ErrorCode.TOKEN_PROVIDER, "token provider failed: " + cause, cause);
                c.emitError(e);
                result.completeExceptionally(e);
                return;
            }
            token = t.value();
            expiresAt = t.expiresAt();
            scheduleRefresh();
            result.complete(null);
        });
        return result;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof java.util.concurrent.CompletionException || cur instanceof java.util.concurrent.ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        return cur;
    }

    /** Arms the timer for the next refresh when the expiry is known and a provider exists. */
    CompletableFuture<Void> scheduleRefresh() {
        synchronized (c.lock) {
            if (timer != null) timer.cancel(false);
            timer = null;
            Instant exp = expiresAt;
            if (exp == null || c.opts.tokenProvider == null || c.state == ClientState.CLOSED) return CompletableFuture.completedFuture(null);
            long remaining = exp.toEpochMilli() - System.currentTimeMillis();
            long margin = Math.min(c.opts.tokenRefreshMargin.toMillis(), Math.max(0, remaining / 2));
            long delay = Math.max(0, remaining - margin);
            TokenReason reason = remaining > 0 ? TokenReason.EXPIRING : TokenReason.EXPIRED;
            timer = SdkThreads.timer().schedule(() -> refresh(reason).whenComplete((v, err) -> {
                if (err == null) {
                    boolean connected;
                    synchronized (c.lock) {
                        connected = c.active != null;
                    }
                    if (connected) c.migrateForToken();
                    return;
                }
                // Try again shortly; the current connection keeps working (contract §10.4).
                synchronized (c.lock) {
                    if (c.state != ClientState.CLOSED) timer = SdkThreads.timer().schedule(this::scheduleRefresh, RETRY_AFTER_FAILURE_MS, TimeUnit.MILLISECONDS);
                }
            }), delay, TimeUnit.MILLISECONDS);
        }
        return CompletableFuture.completedFuture(null);
    }

    void cancel() {
        synchronized (c.lock) {
            if (timer != null) timer.cancel(false);
            timer = null;
        }
    }
}
