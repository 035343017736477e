package com.fastpubsub.client;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Duplicate suppression while connections overlap (contract v0.1 §6, make-before-break). For each
 * key (pattern, tenant, channel, payload) it counts how many copies every connection delivered.
 * The number of distinct messages with that key is the largest of those counts, so a copy on
 * connection X is new only when X's count goes above every other connection's count. This holds
 * for any number of overlapping connections (migrations in a row keep three alive), and a
 * publisher that sends the same bytes twice still gets both through, since each connection sees
 * both copies.
 *
 * A connection that is dropped keeps its counts for a short grace period: its last deliveries
 * may still be on their way through a slower connection, and forgetting them at once would let
 * those copies through as new.
 *
 * Only active while two or more connections are live (or a dropped one is in its grace period),
 * so the single-connection path pays one volatile read.
 */
final class OverlapFilter<C> {
    record Key(String pattern, String tenant, String channel, int length, long hash) {}

    static final long GRACE_NANOS = 2_000_000_000L;

    private final Map<C, Boolean> live = new IdentityHashMap<>();
    /** Dropped connections whose counts still count, with the nanoTime they expire at. */
    private final Map<C, Long> ghosts = new IdentityHashMap<>();
    private final Map<Key, Map<C, Integer>> counts = new HashMap<>();
    private volatile boolean active;

    /** Registers a live connection (every connection, before it sends its first SUB). */
    synchronized void track(C conn) {
        live.put(conn, Boolean.TRUE);
        updateActive();
    }

    /** A connection was dropped: it delivers nothing more, its counts stay for the grace period. */
    synchronized void forget(C conn) {
        if (live.remove(conn) == null) return;
        if (active) ghosts.put(conn, System.nanoTime() + GRACE_NANOS);
        updateActive();
    }

    boolean active() {
        return active;
    }

    private void updateActive() {
        active = live.size() >= 2 || !ghosts.isEmpty();
        if (!active) counts.clear();
    }

    private void purgeExpiredGhosts() {
        if (ghosts.isEmpty()) return;
        long now = System.nanoTime();
        boolean expired = false;
        for (Iterator<Map.Entry<C, Long>> it = ghosts.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<C, Long> g = it.next();
            if (now - g.getValue() < 0) continue;
            it.remove();
            expired = true;
        }
        if (!expired) return;
        for (Iterator<Map<C, Integer>> it = counts.values().iterator(); it.hasNext(); ) {
            Map<C, Integer> perConn = it.next();
            perConn.keySet().removeIf(c -> !live.containsKey(c) && !ghosts.containsKey(c));
            if (perConn.isEmpty()) it.remove();
        }
        updateActive();
    }

    /** True if this delivery is new and should reach the application. */
    synchronized boolean accept(C conn, Key key) {
        purgeExpiredGhosts();
        // A dropped connection's late delivery is redundant: its successor has the message.
        if (!live.containsKey(conn)) return false;
        if (!active) return true;
        Map<C, Integer> perConn = counts.computeIfAbsent(key, k -> new IdentityHashMap<>());
        int mine = perConn.merge(conn, 1, Integer::sum);
        for (Map.Entry<C, Integer> e : perConn.entrySet()) {
            if (e.getKey() != conn && e.getValue() >= mine) return false;
        }
        return true;
    }

    /** 64-bit FNV-1a of the payload; with the length it identifies the bytes well enough for the overlap. */
    static long payloadHash(byte[] payload) {
        long h = 0xcbf29ce484222325L;
        for (byte b : payload) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
