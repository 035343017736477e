package com.fastpubsub.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Frames from the edge: deliveries (duplicate suppression while connections overlap, and the
 * catch-up barrier that keeps order across a make-before-break switch), OK:SUB, and ERR lines.
 */
final class Inbound {
    /** Deliveries a new connection may hold while the old one catches up. */
    private static final int MAX_HELD = 100_000;
    private static final long CATCH_UP_TIMEOUT_MS = 2_000;

    private final FastPubSub c;
    private final TokenKeeper tokens;
    private final Reconnector reconnector;

    Inbound(FastPubSub client, TokenKeeper tokens, Reconnector reconnector) {
        this.c = client;
        this.tokens = tokens;
        this.reconnector = reconnector;
    }

    void deliver(Conn conn, Wire.Delivery d) {
        if (!conn.alive) return;
        if (conn.held != null) {
            synchronized (c.lock) {
                List<Wire.Delivery> held = conn.held;
                if (held != null && (held.size() < MAX_HELD || conn.releasing)) {
                    held.add(d);
                    return;
                }
            }
            if (conn.held != null) releaseHeld(conn); // too many waiting: give up on order, not on messages
        }
        deliverNow(conn, d);
    }

    private void deliverNow(Conn conn, Wire.Delivery d) {
        if (!conn.alive) return;
        boolean checkDup = c.overlap.active();
        long hash = checkDup ? OverlapFilter.payloadHash(d.payload()) : 0;
        for (String pattern : d.patterns()) {
            FastPubSub.Entry entry = c.entries.get(FastPubSub.key(d.tenant(), pattern));
            if (entry == null) continue; // unsubscribed meanwhile
            Message m = new Message(d.tenant(), d.channel(), d.payload(), d.patterns(), pattern);
            if (!checkDup) {
                for (Subscription s : entry.subs) s.push(m);
                continue;
            }
            // While connections overlap, deciding "first copy" and handing it over is one step:
            // otherwise two connections' threads could push their first copies in swapped order.
            synchronized (c.overlap) {
                if (!c.overlap.accept(conn, new OverlapFilter.Key(pattern, d.tenant(), d.channel(), d.payload().length, hash))) {
                    c.duplicatesDropped.incrementAndGet();
                    continue;
                }
                for (Subscription s : entry.subs) s.push(m);
            }
        }
    }

    void onSubscribed(Conn conn, String tenant, String pattern) {
        String k = FastPubSub.key(tenant, pattern);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        synchronized (c.lock) {
            FastPubSub.Entry entry = c.entries.get(k);
            if (entry == null) return;
            conn.confirmed.add(k);
            if (conn.awaiting.remove(k) && conn.awaiting.isEmpty()) done.add(conn.allConfirmed);
            if (conn == c.active) {
                done.addAll(entry.waiters);
                entry.waiters.clear();
            }
        }
        for (CompletableFuture<Void> f : done) f.complete(null);
    }

    void onServerError(Conn conn, String code, String detail) {
        FastPubSubException error = FastPubSubException.server(code, detail);
        // Contract §10.1: a denied SUB is ERR:permission_denied:SUB:{tenant}:{pattern}.
        if (detail != null && detail.startsWith("SUB:")) {
            String rest = detail.substring(4);
            int i = rest.indexOf(':');
            FastPubSub.Entry entry = i < 0 ? null : c.entries.get(FastPubSub.key(rest.substring(0, i), rest.substring(i + 1)));
            if (entry != null) {
                failEntry(entry, error);
                return;
            }
        }
        boolean isActive;
        synchronized (c.lock) {
            isActive = conn == c.active;
        }
        if (code.equals("token_expired") && isActive && c.opts.tokenProvider != null) {
            tokens.refresh(TokenReason.EXPIRED).thenRun(reconnector::migrate);
        }
        c.emitError(error);
    }

    private void failEntry(FastPubSub.Entry entry, FastPubSubException error) {
        String k = FastPubSub.key(entry.tenant, entry.pattern);
        List<CompletableFuture<Void>> waiters;
        List<CompletableFuture<Void>> confirmed = new ArrayList<>();
        synchronized (c.lock) {
            if (!c.entries.remove(k, entry)) return;
            waiters = new ArrayList<>(entry.waiters);
            entry.waiters.clear();
            for (Conn other : c.conns) {
                other.confirmed.remove(k);
                if (other.awaiting.remove(k) && other.awaiting.isEmpty()) confirmed.add(other.allConfirmed);
            }
        }
        for (CompletableFuture<Void> w : waiters) w.completeExceptionally(error);
        for (Subscription s : entry.subs) s.end(error);
        for (CompletableFuture<Void> f : confirmed) f.complete(null);
    }

    // ---- catch-up barrier (order across a make-before-break switch) -----------------------------

    /**
     * Called with the lock held when {@code fresh} replaces {@code old}. Every message published
     * before fresh's SUBs took effect was queued to old before the edge handles a PING sent on old
     * now (one connection's frames are handled in order), so old's PONG marks the point after
     * which fresh has everything. Until then fresh's deliveries wait; PINGs already in flight on
     * old are answered first, hence the count. Bounded by a timeout.
     */
    boolean startCatchUp(Conn old, Conn fresh) {
        old.catchUpFor = fresh;
        old.catchUpPongs = old.pingsInFlight + 1;
        old.pingsInFlight++;
        old.link.sendText(Wire.PING);
        old.catchUpTimer = SdkThreads.timer().schedule(() -> {
            synchronized (c.lock) {
                if (old.catchUpFor != fresh) return;
                old.catchUpFor = null;
            }
            caughtUp(old, fresh);
        }, CATCH_UP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return true;
    }

    void releaseLater(Conn conn) {
        if (conn.held != null) SdkThreads.workers().execute(() -> releaseHeld(conn));
    }

    /** Hands the held deliveries over in order; new ones keep queueing behind them until the list is empty. */
    void releaseHeld(Conn conn) {
        Conn next = null;
        synchronized (c.lock) {
            if (conn.releasing || conn.held == null) return;
            conn.releasing = true;
        }
        while (true) {
            List<Wire.Delivery> batch;
            synchronized (c.lock) {
                batch = conn.held;
                if (batch == null || batch.isEmpty()) {
                    conn.held = null;
                    conn.releasing = false;
                    next = conn.releaseAfter;
                    conn.releaseAfter = null;
                    break;
                }
                conn.held = new ArrayList<>();
            }
            for (Wire.Delivery d : batch) deliverNow(conn, d);
        }
        if (next != null) releaseHeld(next);
    }

    /** The old connection caught up: release the new one, after the old one's own held deliveries if any. */
    void caughtUp(Conn old, Conn fresh) {
        synchronized (c.lock) {
            if (old.held != null && old.alive) {
                old.releaseAfter = fresh;
                return;
            }
        }
        releaseHeld(fresh);
    }

}
