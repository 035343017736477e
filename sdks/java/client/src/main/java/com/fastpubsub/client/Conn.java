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
    ScheduledFuture<?> pingTimer;
    ScheduledFuture<?> drainTimer;

    Conn(Edge edge) {
        this.edge = edge;
    }

    void cancelTimers() {
        if (pingTimer != null) pingTimer.cancel(false);
        if (drainTimer != null) drainTimer.cancel(false);
    }
}
