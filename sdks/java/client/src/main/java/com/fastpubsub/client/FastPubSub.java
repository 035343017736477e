package com.fastpubsub.client;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A FastPubSub client over the WebSocket edge (contract v0.1). Thread-safe; every call returns
 * at once (a {@link CompletableFuture} for what completes later). Reconnects with exponential
 * backoff and full jitter, moves to a new connection make-before-break (on loss, on the edge's
 * {@code RECONNECT}, after a token refresh), suppressing duplicates while both are read.
 * Failures surface as {@link FastPubSubException} (directly, or as the cause of the future's exception).
 */
public final class FastPubSub implements AutoCloseable {
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(30);

    static final class Entry {
        final String tenant;
        final String pattern;
        final List<Subscription> subs = new CopyOnWriteArrayList<>();
        /** subscribe() calls waiting for OK:SUB on the active connection (guarded by the lock). */
        final List<CompletableFuture<Void>> waiters = new ArrayList<>();

        Entry(String tenant, String pattern) {
            this.tenant = tenant;
            this.pattern = pattern;
        }
    }

    final Object lock = new Object();
    final Options opts;
    final SerialExecutor events = new SerialExecutor(SdkThreads.workers());
    final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    final Set<Conn> conns = new HashSet<>();
    final OverlapFilter<Conn> overlap = new OverlapFilter<>();
    final PublishQueue queue;
    final AtomicLong duplicatesDropped = new AtomicLong();
    final CompletableFuture<FastPubSubException> closedFuture = new CompletableFuture<>();
    private final List<Edge> candidates;
    private final Reconnector reconnector;
    private final TokenKeeper tokens;
    Conn active;
    long published;
    long reconnects;
    boolean everConnected;
    volatile ClientState state = ClientState.CONNECTING;
    volatile Edge edge;
    volatile Duration rtt;

    private FastPubSub(List<Edge> candidates, Options opts) {
        this.candidates = List.copyOf(candidates);
        this.opts = opts;
        this.queue = new PublishQueue(opts.publishQueueSize, opts.publishQueuePolicy);
        this.tokens = new TokenKeeper(this);
        this.reconnector = new Reconnector(this, tokens);
    }

    /** Connects to one edge ({@code http://127.0.0.1:7700}, {@code https://host}, {@code wss://host/ws}). */
    public static CompletableFuture<FastPubSub> connect(URI endpoint, Options options) {
        return connect(List.of(endpoint), options);
    }

    /** Connects to the fastest of several edges, probed by {@code GET /ping} in parallel. */
    public static CompletableFuture<FastPubSub> connect(List<URI> edges, Options options) {
        FastPubSub client;
        try {
            if (options == null) throw FastPubSubException.badArgument("options are required");
            if (edges == null || edges.isEmpty()) throw FastPubSubException.badArgument("no edge given");
            List<Edge> parsed = new ArrayList<>();
            for (URI u : edges) parsed.add(Edge.of(u));
            client = new FastPubSub(parsed, options);
        } catch (FastPubSubException e) {
            return CompletableFuture.failedFuture(e);
        }
        return client.start();
    }

    private CompletableFuture<FastPubSub> start() {
        events.execute(() -> opts.listener.onState(ClientState.CONNECTING));
        CompletableFuture<Void> first = tokens.current() == null ? tokens.refresh(TokenReason.INITIAL) : tokens.scheduleRefresh();
        return first.thenCompose(v -> reconnector.openAndSubscribe(false))
                .exceptionallyCompose(err -> {
                    FastPubSubException e = FastPubSubException.from(err);
                    if (e.code() != ErrorCode.UNAUTHORIZED || opts.tokenProvider == null) return CompletableFuture.failedFuture(e);
                    return tokens.refresh(TokenReason.UNAUTHORIZED).thenCompose(v -> reconnector.openAndSubscribe(false));
                })
                .handle((conn, err) -> {
                    if (err != null) {
                        FastPubSubException e = FastPubSubException.from(err);
                        shutdown(e);
                        throw e;
                    }
                    reconnector.switchTo(conn);
                    return this;
                });
    }

    CompletableFuture<Edge> pickEdge(boolean reselect) {
        if (candidates.size() == 1) return CompletableFuture.completedFuture(candidates.get(0));
        Edge current = edge;
        if (!reselect && current != null) return CompletableFuture.completedFuture(current);
        return Edges.fastest(candidates);
    }

    void migrateForToken() {
        reconnector.migrate();
    }

    static String key(String tenant, String pattern) {
        return tenant + '\u0000' + pattern;
    }

    void setState(ClientState s) {
        synchronized (lock) {
            if (state == s || state == ClientState.CLOSED) return;
            state = s;
        }
        events.execute(() -> opts.listener.onState(s));
    }

    void emitError(FastPubSubException e) {
        if (state != ClientState.CLOSED) events.execute(() -> opts.listener.onError(e));
    }

    // ---- application API ---------------------------------------------------------------------

    public ClientState state() {
        return state;
    }

    /** The edge in use (or last used). */
    public Edge edge() {
        return edge;
    }

    /** The latest PING/PONG round trip, empty before the first PONG. */
    public Optional<Duration> rtt() {
        return Optional.ofNullable(rtt);
    }

    public ClientStats stats() {
        synchronized (lock) {
            return new ClientStats(published, queue.size(), queue.dropped(), duplicatesDropped.get(), reconnects);
        }
    }

    public CompletableFuture<Void> publish(String tenant, String channel, byte[] payload) {
        return publish(tenant, channel, payload, DeliveryMode.BROADCAST);
    }

    /**
     * Publishes. Completes once the message is written to the connection, or at once when it was
     * queued because no connection is up (bounded queue, drops counted). Bad input (empty tenant,
     * wildcard in the channel, payload over 65,535 bytes) fails with {@code bad_argument}; nothing is sent.
     */
    public CompletableFuture<Void> publish(String tenant, String channel, byte[] payload, DeliveryMode mode) {
        if (state == ClientState.CLOSED) return CompletableFuture.failedFuture(FastPubSubException.closed());
        if (tenant == null || channel == null || payload == null || mode == null) {
            return CompletableFuture.failedFuture(FastPubSubException.badArgument("tenant, channel, payload and mode must not be null"));
        }
        byte[] frame;
        try {
            frame = Wire.encodePublish(tenant, channel, payload, mode.wire);
        } catch (Wire.WireException e) {
            return CompletableFuture.failedFuture(FastPubSubException.badArgument(e.getMessage()));
        }
        WsLink link;
        synchronized (lock) {
            if (state == ClientState.CLOSED) return CompletableFuture.failedFuture(FastPubSubException.closed());
            Conn c = active;
            if (c == null || !c.alive) {
                try {
                    queue.push(new PublishQueue.Item(frame));
                } catch (FastPubSubException e) {
                    return CompletableFuture.failedFuture(e);
                }
                return CompletableFuture.completedFuture(null);
            }
            link = c.link;
            published++;
        }
        return link.sendBinary(frame);
    }

    public CompletableFuture<Subscription> subscribe(String tenant, String pattern) {
        return subscribe(tenant, pattern, opts.subscriptionBufferSize);
    }

    /**
     * Subscribes; completes once the edge confirmed it ({@code OK:SUB}). Fails with
     * {@code bad_argument} for an invalid tenant or pattern, {@code server} (e.g.
     * {@code permission_denied}) when the edge refuses it, {@code timeout} without an answer.
     */
    public CompletableFuture<Subscription> subscribe(String tenant, String pattern, int bufferSize) {
        if (tenant == null || pattern == null) return CompletableFuture.failedFuture(FastPubSubException.badArgument("tenant and pattern must not be null"));
        if (bufferSize < 1) return CompletableFuture.failedFuture(FastPubSubException.badArgument("bufferSize must be ≥ 1"));
        try {
            Wire.validateTenant(tenant);
            Wire.validatePattern(pattern);
        } catch (Wire.WireException e) {
            return CompletableFuture.failedFuture(FastPubSubException.badArgument(e.getMessage()));
        }
        String k = key(tenant, pattern);
        Subscription sub = new Subscription(tenant, pattern, bufferSize, this::removeSub);
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        Entry entry;
        synchronized (lock) {
            if (state == ClientState.CLOSED) return CompletableFuture.failedFuture(FastPubSubException.closed());
            entry = entries.get(k);
            boolean fresh = entry == null;
            if (fresh) {
                entry = new Entry(tenant, pattern);
                entries.put(k, entry);
            }
            entry.subs.add(sub);
            if (fresh) {
                for (Conn c : conns) {
                    if (c.role == Conn.Role.DRAINING) continue;
                    if (c.role == Conn.Role.PENDING) c.awaiting.add(k);
                    c.link.sendText(Wire.formatSub(tenant, pattern));
                }
            }
            if (active != null && active.confirmed.contains(k)) return CompletableFuture.completedFuture(sub);
            entry.waiters.add(waiter);
        }
        Entry e = entry;
        return waiter.orTimeout(opts.resubscribeTimeout.toMillis(), TimeUnit.MILLISECONDS).handle((v, err) -> {
            if (err == null) return sub;
            synchronized (lock) {
                e.waiters.remove(waiter);
            }
            sub.unsubscribe();
            if (err instanceof TimeoutException) {
                throw new FastPubSubException(ErrorCode.TIMEOUT, "no OK:SUB for " + tenant + ":" + pattern + " within " + opts.resubscribeTimeout.toMillis() + " ms");
            }
            throw FastPubSubException.from(err);
        });
    }

    private void removeSub(Subscription sub) {
        String k = key(sub.tenant(), sub.pattern());
        List<CompletableFuture<Void>> done = new ArrayList<>();
        synchronized (lock) {
            Entry entry = entries.get(k);
            if (entry == null || !entry.subs.remove(sub) || !entry.subs.isEmpty()) return;
            entries.remove(k);
            for (CompletableFuture<Void> w : entry.waiters) w.completeExceptionally(new FastPubSubException(ErrorCode.CLOSED, "unsubscribed"));
            entry.waiters.clear();
            for (Conn c : conns) {
                c.confirmed.remove(k);
                if (c.awaiting.remove(k) && c.awaiting.isEmpty()) done.add(c.allConfirmed);
                if (c.role != Conn.Role.DRAINING) c.link.sendText(Wire.formatUnsub(sub.tenant(), sub.pattern()));
            }
        }
        for (CompletableFuture<Void> f : done) f.complete(null);
    }

    /** Completes when everything published so far has left the client (queue empty, socket written). */
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + FLUSH_TIMEOUT.toNanos();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            if (state == ClientState.CLOSED) {
                done.completeExceptionally(FastPubSubException.closed());
                return;
            }
            boolean empty;
            synchronized (lock) {
                empty = queue.size() == 0 && active != null && active.link.bufferedBytes() == 0;
            }
            if (empty) done.complete(null);
            else if (System.nanoTime() > deadline) done.completeExceptionally(new FastPubSubException(ErrorCode.TIMEOUT, "flush did not finish within " + FLUSH_TIMEOUT.toSeconds() + " s"));
            else SdkThreads.timer().schedule(check[0], 2, TimeUnit.MILLISECONDS);
        };
        check[0].run();
        return done;
    }

    /** Completes when the client closes: with null after close(), else the terminal error (e.g. unauthorized). */
    public CompletableFuture<FastPubSubException> closed() {
        return closedFuture;
    }

    public CompletableFuture<Void> closeAsync() {
        shutdown(null);
        return CompletableFuture.completedFuture(null);
    }

    /** Closes every connection and ends every subscription; returns at once (nothing to wait for). */
    @Override
    public void close() {
        shutdown(null);
    }

    void shutdown(FastPubSubException error) {
        List<Conn> toDrop;
        List<Entry> ended;
        synchronized (lock) {
            if (state == ClientState.CLOSED) return;
            state = ClientState.CLOSED;
            tokens.cancel();
            toDrop = new ArrayList<>(conns);
            ended = new ArrayList<>(entries.values());
            entries.clear();
            queue.clear();
            for (Entry e : ended) {
                for (CompletableFuture<Void> w : e.waiters) w.completeExceptionally(FastPubSubException.closed());
                e.waiters.clear();
            }
        }
        events.execute(() -> opts.listener.onState(ClientState.CLOSED));
        for (Conn c : toDrop) reconnector.dropConn(c);
        for (Entry e : ended) for (Subscription s : e.subs) s.end(error);
        events.execute(() -> opts.listener.onClosed(error));
        closedFuture.complete(error);
    }
}
