package com.fastpubsub.client;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One subscription: a bounded buffer (the oldest message is dropped and counted when it is full),
 * consumed either by {@link #next(Duration)} / {@link #poll()} or by an {@link #onMessage} callback.
 * Thread-safe.
 */
public final class Subscription implements AutoCloseable {
    private final String tenant;
    private final String pattern;
    private final int bufferSize;
    private final Consumer<Subscription> onUnsubscribe;
    private final ArrayDeque<Message> buffer = new ArrayDeque<>();
    private final CompletableFuture<FastPubSubException> closed = new CompletableFuture<>();
    private long received;
    private long dropped;
    private boolean ended;
    private FastPubSubException endError;
    private Consumer<Message> callback;
    private SerialExecutor callbackExecutor;
    private boolean callbackScheduled;

    Subscription(String tenant, String pattern, int bufferSize, Consumer<Subscription> onUnsubscribe) {
        this.tenant = tenant;
        this.pattern = pattern;
        this.bufferSize = bufferSize;
        this.onUnsubscribe = onUnsubscribe;
    }

    public String tenant() {
        return tenant;
    }

    public String pattern() {
        return pattern;
    }

    public synchronized SubscriptionStats stats() {
        return new SubscriptionStats(received, dropped, buffer.size());
    }

    /** Called by the client for each message matching this subscription. */
    void push(Message m) {
        boolean schedule = false;
        synchronized (this) {
            if (ended) return;
            received++;
            if (buffer.size() >= bufferSize) {
                buffer.pollFirst();
                dropped++;
            }
            buffer.addLast(m);
            if (callback == null) {
                notifyAll();
            } else if (!callbackScheduled) {
                callbackScheduled = true;
                schedule = true;
            }
        }
        if (schedule) callbackExecutor.execute(this::runCallbacks);
    }

    /**
     * The next message, waiting up to {@code timeout}. Throws {@link ErrorCode#TIMEOUT} when none
     * came, {@link ErrorCode#CLOSED} after unsubscribe/close, or the error that ended the
     * subscription (e.g. {@code server}/{@code permission_denied}) once the buffer is empty.
     */
    public Message next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            if (callback != null) throw FastPubSubException.badArgument("this subscription has an onMessage callback");
            while (true) {
                Message m = buffer.pollFirst();
                if (m != null) return m;
                if (ended) throw endError != null ? endError : new FastPubSubException(ErrorCode.CLOSED, "subscription closed");
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new FastPubSubException(ErrorCode.TIMEOUT, "no message within " + timeout.toMillis() + " ms");
                long ms = Math.max(1, left / 1_000_000);
                wait(ms);
            }
        }
    }

    /** The next buffered message, or null if none is waiting. */
    public synchronized Message poll() {
        return buffer.pollFirst();
    }

    /**
     * Delivers every message (buffered ones first) to {@code consumer}, one at a time in order, on
     * an SDK worker thread. A slow consumer makes the buffer fill up and drop (counted).
     */
    public void onMessage(Consumer<Message> consumer) {
        Objects.requireNonNull(consumer, "consumer");
        boolean schedule;
        synchronized (this) {
            if (callback != null) throw FastPubSubException.badArgument("this subscription already has an onMessage callback");
            callback = consumer;
            callbackExecutor = new SerialExecutor(SdkThreads.workers());
            schedule = !buffer.isEmpty();
            callbackScheduled = schedule;
            notifyAll();
        }
        if (schedule) callbackExecutor.execute(this::runCallbacks);
    }

    private void runCallbacks() {
        // Bounded per turn so one subscription cannot hold a worker forever.
        for (int i = 0; i < 1024; i++) {
            Message m;
            Consumer<Message> c;
            synchronized (this) {
                m = buffer.pollFirst();
                c = callback;
                if (m == null) {
                    callbackScheduled = false;
                    return;
                }
            }
            try {
                c.accept(m);
            } catch (RuntimeException e) {
                // The application's callback threw: report it like an uncaught exception, keep delivering.
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
            }
        }
        callbackExecutor.execute(this::runCallbacks);
    }

    /** Stops delivery; sends UNSUB when no other subscription of this client holds the pattern. */
    public CompletableFuture<Void> unsubscribe() {
        synchronized (this) {
            if (ended) return CompletableFuture.completedFuture(null);
        }
        end(null);
        onUnsubscribe.accept(this);
        return CompletableFuture.completedFuture(null);
    }

    /** Completes when the subscription ends: with null after unsubscribe/close, else the error. */
    public CompletableFuture<FastPubSubException> closed() {
        return closed;
    }

    /** Ends the subscription (buffered messages stay readable by next()/poll()). */
    void end(FastPubSubException error) {
        synchronized (this) {
            if (ended) return;
            ended = true;
            endError = error;
            notifyAll();
        }
        closed.complete(error);
    }

    /** Same as {@link #unsubscribe()}. */
    @Override
    public void close() {
        unsubscribe();
    }

    @Override
    public String toString() {
        return "Subscription[" + tenant + ":" + pattern + "]";
    }
}
