package com.fastpubsub.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client's connections (contract v0.1 §6): opening one and re-sending every SUB, switching
 * once every OK:SUB arrived (make-before-break), reading the old one for the overlap window,
 * the reconnect loop with full-jitter backoff, and PING/PONG. Frames from the edge go to {@link Inbound}.
 */
final class Reconnector {
    private final FastPubSub c;
    private final TokenKeeper tokens;
    private final Inbound inbound;
    private boolean loopRunning; // guarded by c.lock

    Reconnector(FastPubSub client, TokenKeeper tokens) {
        this.c = client;
        this.tokens = tokens;
        this.inbound = new Inbound(client, tokens, this);
    }

    /** Full jitter: a uniform delay in [0, min(max, base·2^(attempt−1))]. */
    static Duration backoff(int attempt, Duration base, Duration max) {
        double cap = Math.min(max.toMillis(), base.toMillis() * Math.pow(2, Math.min(30, Math.max(0, attempt - 1))));
        return Duration.ofMillis((long) Math.floor(ThreadLocalRandom.current().nextDouble() * cap));
    }

    /** Opens a connection, sends every SUB and completes once every OK:SUB arrived. */
    CompletableFuture<Conn> openAndSubscribe(boolean reselect) {
        return c.pickEdge(reselect).thenCompose(edge -> {
            String token = tokens.current();
            if (token == null) return CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.TOKEN_PROVIDER, "no token"));
            Conn conn = new Conn(edge);
            return WsLink.open(edge, token, c.opts.openTimeout, eventsFor(conn)).thenCompose(link -> register(conn, link));
        });
    }

    private CompletableFuture<Conn> register(Conn conn, WsLink link) {
        synchronized (c.lock) {
            conn.link = link;
            if (c.state == ClientState.CLOSED) {
                link.close();
                return CompletableFuture.failedFuture(FastPubSubException.closed());
            }
            if (!conn.alive) return CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.CONNECT_FAILED, "connection closed right after it opened"));
            c.conns.add(conn);
            c.overlap.track(conn);
            // Make-before-break keeps order too: what this connection receives waits until the
            // active one has delivered everything published before this one's SUBs took effect.
            if (c.active != null && c.active.alive) conn.held = new ArrayList<>();
            for (FastPubSub.Entry e : c.entries.values()) {
                conn.awaiting.add(FastPubSub.key(e.tenant, e.pattern));
                link.sendText(Wire.formatSub(e.tenant, e.pattern));
            }
            if (conn.awaiting.isEmpty()) conn.allConfirmed.complete(null);
        }
        Duration limit = c.opts.resubscribeTimeout;
        return conn.allConfirmed.orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS).handle((v, err) -> {
            if (err == null) return conn;
            dropConn(conn);
            if (err instanceof TimeoutException) throw new FastPubSubException(ErrorCode.TIMEOUT, "no OK:SUB for every subscription within " + limit.toMillis() + " ms");
            throw FastPubSubException.from(err);
        });
    }

    void switchTo(Conn conn) {
        boolean migration;
        List<CompletableFuture<Void>> confirmed = new ArrayList<>();
        synchronized (c.lock) {
            if (c.state == ClientState.CLOSED || !conn.alive) {
                dropConn(conn);
                if (c.state != ClientState.CLOSED) startLoop();
                return;
            }
            Conn old = c.active;
            conn.role = Conn.Role.ACTIVE;
            c.active = conn;
            c.edge = conn.edge;
            migration = c.everConnected;
            if (migration) c.reconnects++;
            c.everConnected = true;
            boolean catchUp = false;
            if (old != null && old != conn && old.alive) {
                old.role = Conn.Role.DRAINING;
                old.cancelTimers();
                old.drainTimer = SdkThreads.timer().schedule(() -> dropConn(old), c.opts.overlap.toMillis(), TimeUnit.MILLISECONDS);
                catchUp = conn.held != null && inbound.startCatchUp(old, conn);
            }
            if (!catchUp) inbound.releaseLater(conn);
            for (FastPubSub.Entry e : c.entries.values()) {
                if (!conn.confirmed.contains(FastPubSub.key(e.tenant, e.pattern))) continue;
                confirmed.addAll(e.waiters);
                e.waiters.clear();
            }
            for (PublishQueue.Item item : c.queue.drain()) {
                conn.link.sendBinary(item.frame());
                c.published++;
            }
            schedulePing(conn, Duration.ZERO);
        }
        c.setState(ClientState.CONNECTED);
        Edge edge = conn.edge;
        c.events.execute(() -> c.opts.listener.onConnected(edge, migration));
        for (CompletableFuture<Void> w : confirmed) w.complete(null);
    }

    void dropConn(Conn conn) {
        synchronized (c.lock) {
            if (!conn.alive) return;
            conn.alive = false;
            conn.cancelTimers();
            c.conns.remove(conn);
            c.overlap.forget(conn);
        }
        Conn waiting;
        Conn chained;
        synchronized (c.lock) {
            waiting = conn.catchUpFor;
            conn.catchUpFor = null;
            conn.held = null;
            chained = conn.releaseAfter;
            conn.releaseAfter = null;
        }
        if (waiting != null) inbound.releaseHeld(waiting);
        if (chained != null) inbound.releaseHeld(chained);
        conn.allConfirmed.completeExceptionally(new FastPubSubException(ErrorCode.CONNECT_FAILED, "connection closed before every OK:SUB arrived"));
        WsLink link = conn.link;
        if (link != null) link.close();
    }

    private void onConnClosed(Conn conn, FastPubSubException error) {
        boolean wasActive;
        synchronized (c.lock) {
            wasActive = conn == c.active && conn.alive;
        }
        dropConn(conn);
        if (!wasActive) return;
        synchronized (c.lock) {
            if (c.state == ClientState.CLOSED) return;
            c.active = null;
        }
        if (!c.opts.reconnect) {
            c.shutdown(error != null ? error : new FastPubSubException(ErrorCode.CONNECT_FAILED, "connection closed"));
            return;
        }
        c.setState(ClientState.RECONNECTING);
        startLoop();
    }

    /** Make-before-break move while the active connection still works (RECONNECT, new token). */
    void migrate() {
        if (c.state != ClientState.CLOSED) startLoop();
    }

    private void startLoop() {
        synchronized (c.lock) {
            if (loopRunning || c.state == ClientState.CLOSED) return;
            loopRunning = true;
        }
        attempt(0, false);
    }

    private void loopDone() {
        synchronized (c.lock) {
            loopRunning = false;
        }
    }

    private void attempt(int failures, boolean afterUnauthorizedRefresh) {
        if (c.state == ClientState.CLOSED) {
            loopDone();
            return;
        }
        openAndSubscribe(failures > 0).whenComplete((conn, err) -> {
            if (err == null) {
                loopDone();
                switchTo(conn);
                return;
            }
            if (c.state == ClientState.CLOSED) {
                loopDone();
                return;
            }
            FastPubSubException e = FastPubSubException.from(err);
            if (e.code() == ErrorCode.UNAUTHORIZED) {
                // Revoked or expired: with no provider, or when a fresh token is refused too, stop
                // for good instead of retrying forever.
                if (c.opts.tokenProvider == null || afterUnauthorizedRefresh) {
                    loopDone();
                    c.shutdown(e);
                    return;
                }
                tokens.refresh(TokenReason.UNAUTHORIZED).whenComplete((v, refreshErr) -> {
                    if (refreshErr == null) attempt(failures + 1, true);
                    else retryLater(failures + 1, e);
                });
                return;
            }
            retryLater(failures + 1, e);
        });
    }

    private void retryLater(int failures, FastPubSubException e) {
        boolean giveUp;
        synchronized (c.lock) {
            giveUp = failures >= c.opts.maxReconnectAttempts;
        }
        if (giveUp) {
            loopDone();
            boolean noConnection;
            synchronized (c.lock) {
                noConnection = c.active == null;
            }
            if (noConnection) c.shutdown(e);
            return;
        }
        Duration delay = backoff(failures, c.opts.reconnectBaseDelay, c.opts.reconnectMaxDelay);
        c.events.execute(() -> c.opts.listener.onReconnecting(failures, delay, e));
        SdkThreads.timer().schedule(() -> attempt(failures, false), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- frames from the edge ------------------------------------------------------------------

    private WsLink.Events eventsFor(Conn conn) {
        return new WsLink.Events() {
            @Override
            public void onDelivery(Wire.Delivery d) {
                inbound.deliver(conn, d);
            }

            @Override
            public void onText(Wire.ServerText t) {
                switch (t.kind()) {
                    case "OK" -> {
                        if (t.op().equals("SUB")) inbound.onSubscribed(conn, t.tenant(), t.pattern());
                    }
                    case "PONG" -> onPong(conn);
                    case "ERR" -> inbound.onServerError(conn, t.code(), t.detail());
                    case "RECONNECT" -> {
                        boolean isActive;
                        synchronized (c.lock) {
                            isActive = conn == c.active;
                        }
                        if (isActive) migrate();
                    }
                    default -> { } // contract §4: other server text is ignored
                }
            }

            @Override
            public void onClose(FastPubSubException error) {
                onConnClosed(conn, error);
            }
        };
    }

    // ---- PING / PONG ------------------------------------------------------------------------------

    private void onPong(Conn conn) {
        Duration rtt;
        Conn caughtUp = null;
        synchronized (c.lock) {
            if (conn.pingsInFlight > 0) conn.pingsInFlight--;
            if (conn.catchUpFor != null && --conn.catchUpPongs <= 0) {
                caughtUp = conn.catchUpFor;
                conn.catchUpFor = null;
            }
        }
        if (caughtUp != null) inbound.caughtUp(conn, caughtUp);
        synchronized (c.lock) {
            if (conn.pingSentAtNanos < 0) return;
            rtt = Duration.ofNanos(System.nanoTime() - conn.pingSentAtNanos);
            conn.pingSentAtNanos = -1;
            if (conn != c.active) return;
            c.rtt = rtt;
            schedulePing(conn, c.opts.pingInterval);
        }
        c.events.execute(() -> c.opts.listener.onRtt(rtt));
    }

    /** Called with the lock held. */
    private void schedulePing(Conn conn, Duration delay) {
        if (!c.opts.ping) return;
        if (conn.pingTimer != null) conn.pingTimer.cancel(false);
        conn.pingTimer = SdkThreads.timer().schedule(() -> {
            synchronized (c.lock) {
                if (!conn.alive || conn != c.active) return;
                conn.pingSentAtNanos = System.nanoTime();
                conn.pingsInFlight++;
                conn.link.sendText(Wire.PING);
                // Contract §4: no PONG in time → the connection counts as lost.
                conn.pingTimer = SdkThreads.timer().schedule(() -> {
                    if (conn.alive) onConnClosed(conn, new FastPubSubException(ErrorCode.TIMEOUT, "no PONG within " + c.opts.pingTimeout.toMillis() + " ms"));
                }, c.opts.pingTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
}
