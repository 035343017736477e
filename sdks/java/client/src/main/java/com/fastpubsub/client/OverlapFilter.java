package com.fastpubsub.client;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Duplicate suppression while two connections overlap (contract v0.1 §6, make-before-break).
 * Each tracked connection counts the keys (pattern, tenant, channel, payload) it delivered that
 * no other connection has matched yet. A key that another connection already delivered is the
 * same message seen twice: it is dropped and consumes that count. A publisher that sends the
 * same bytes twice still gets both through, since each connection sees both copies. Only active
 * while two or more connections are tracked, so the single-connection path pays one volatile read.
 */
final class OverlapFilter<C> {
    record Key(String pattern, String tenant, String channel, int length, long hash) {}

    private final Map<C, Map<Key, Integer>> seen = new IdentityHashMap<>();
    private volatile boolean active;

    synchronized void track(C conn) {
        seen.computeIfAbsent(conn, c -> new HashMap<>());
        active = seen.size() >= 2;
    }

    synchronized void forget(C conn) {
        seen.remove(conn);
        if (seen.size() < 2) seen.clear();
        active = seen.size() >= 2;
    }

    boolean active() {
        return active;
    }

    /** True if this delivery is new and should reach the application. */
    synchronized boolean accept(C conn, Key key) {
        for (Map.Entry<C, Map<Key, Integer>> e : seen.entrySet()) {
            if (e.getKey() == conn) continue;
            Map<Key, Integer> counts = e.getValue();
            Integer n = counts.get(key);
            if (n != null) {
                if (n <= 1) counts.remove(key);
                else counts.put(key, n - 1);
                return false;
            }
        }
        Map<Key, Integer> mine = seen.get(conn);
        if (mine != null) mine.merge(key, 1, Integer::sum);
        return true;
    }

    /** 64-bit FNV-1a of the payload; with the length it identifies the bytes well enough for 5 s. */
    static long payloadHash(byte[] payload) {
        long h = 0xcbf29ce484222325L;
        for (byte b : payload) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
