package com.fastpubsub.client;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Duplicate suppression while connections overlap (contract v0.1 §6, make-before-break). For each
 * key (pattern, tenant, channel, payload) it counts how many copies every tracked connection
 * delivered. The number of distinct messages with that key is the largest of those counts, so a
 * copy on connection X is new only when X's count goes above every other connection's count. This
 * holds for any number of overlapping connections (two migrations in a row keep three alive), and
 * a publisher that sends the same bytes twice still gets both through, since each connection sees
 * both copies. Only active while two or more connections are tracked, so the single-connection
 * path pays one volatile read.
 */
final class OverlapFilter<C> {
    record Key(String pattern, String tenant, String channel, int length, long hash) {}

    private final Map<C, Boolean> tracked = new IdentityHashMap<>();
    private final Map<Key, Map<C, Integer>> counts = new HashMap<>();
    private volatile boolean active;

    synchronized void track(C conn) {
        tracked.put(conn, Boolean.TRUE);
        active = tracked.size() >= 2;
    }

    synchronized void forget(C conn) {
        if (tracked.remove(conn) == null) return;
        active = tracked.size() >= 2;
        if (!active) {
            tracked.clear();
            counts.clear();
            return;
        }
        for (Iterator<Map<C, Integer>> it = counts.values().iterator(); it.hasNext(); ) {
            Map<C, Integer> perConn = it.next();
            perConn.remove(conn);
            if (perConn.isEmpty()) it.remove();
        }
    }

    boolean active() {
        return active;
    }

    /** True if this delivery is new and should reach the application. */
    synchronized boolean accept(C conn, Key key) {
        if (!tracked.containsKey(conn)) return true;
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
