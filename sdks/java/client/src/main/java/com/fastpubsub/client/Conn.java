package com.fastpubsub.client;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/** One connection's bookkeeping inside the client. Fields are guarded by the client's lock unless volatile. */
final class Conn {
    enum Role { PENDING, ACTIVE, DRAINING }

    final Edge edge;
    volatile WsLink link;
    volatile boolean alive = true;
    Role role = Role.PENDING;
    /** Subscription keys with an OK:SUB on this connection. */
    final Set<String> confirmed = new HashSet<>();
    /** Subscription keys sent on this connection that still wait for their OK:SUB. */
    final Set<String> awaiting = new HashSet<>();
    /** Completes when {@link #awaiting} becomes empty; fails when the connection dies first. */
    final CompletableFuture<Void> allConfirmed = new CompletableFuture<>();
    long pingSentAtNanos = -1;
    /** PINGs sent on this connection whose PONG has not arrived. */
    int pingsInFlight;
    /**
     * While non-null, deliveries of this (new) connection wait here until the connection it
     * replaces has delivered everything the new one cannot have (see Reconnector's catch-up barrier).
     */
    volatile java.util.List<Wire.Delivery> held;
    /** True while one thread hands {@link #held} over (only one may, to keep the order). */
    boolean releasing;
    /** A newer connection to release once this one's own held deliveries are handed over. */
    Conn releaseAfter;
    /** On an old connection: the new one waiting for this one to catch up, and how many PONGs that takes. */
    Conn catchUpFor;
    int catchUpPongs;
    ScheduledFuture<?> catchUpTimer;
    ScheduledFuture<?> pingTimer;
    ScheduledFuture<?> drainTimer;

    Conn(Edge edge) {
        this.edge = edge;
    }

    void cancelTimers() {
        if (pingTimer != null) pingTimer.cancel(false);
        if (drainTimer != null) drainTimer.cancel(false);
        if (catchUpTimer != null) catchUpTimer.cancel(false);
    }
}
