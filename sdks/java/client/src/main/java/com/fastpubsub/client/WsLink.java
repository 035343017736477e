package com.fastpubsub.client;

import java.io.ByteArrayOutputStream;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One contract-v0.1 WebSocket connection over the JDK's java.net.http.WebSocket: subprotocols
 * {@code llps.v1} and {@code at.<token>}, binary publish/delivery frames, text SUB/UNSUB/PING.
 * The JDK allows one outstanding text-or-binary send, so frames go through an outbox pumped one
 * at a time; incoming frames are handled in order, one at a time, as the JDK delivers them.
 */
final class WsLink {
    static final String SUBPROTOCOL = "llps.v1";

    /** What the link reports; called on SDK threads, in frame order. */
    interface Events {
        void onDelivery(Wire.Delivery delivery);

        void onText(Wire.ServerText text);

        /** The connection ended: null after our own close(), else why. Called once. */
        void onClose(FastPubSubException error);
    }

    private record Frame(String text, byte[] bytes, CompletableFuture<Void> done) {
        int size() {
            return text != null ? text.length() : bytes.length;
        }
    }

    private final Events events;
    private final ConcurrentLinkedQueue<Frame> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicLong bufferedBytes = new AtomicLong();
    private volatile boolean closed;
    private volatile WebSocket ws;

    private WsLink(Events events) {
        this.events = events;
    }

    /** Opens the connection; fails with unauthorized (401), forbidden (403), protocol, timeout or connect_failed. */
    static CompletableFuture<WsLink> open(Edge edge, String token, Duration timeout, Events events) {
        WsLink link = new WsLink(events);
        CompletableFuture<WebSocket> ws;
        try {
            ws = SdkThreads.http().newWebSocketBuilder()
                    // The JDK sends these as one header, "llps.v1, at.<token>" (contract §2, §9 check 2).
                    .subprotocols(SUBPROTOCOL, "at." + token)
                    .connectTimeout(timeout)
                    .buildAsync(edge.wsUri(), link.new Listener());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.BAD_ARGUMENT, "cannot open " + edge.wsUri() + ": " + e.getMessage(), e));
        }
        return ws.orTimeout(timeout.toMillis() + 200, TimeUnit.MILLISECONDS).handle((socket, err) -> {
            if (err != null) throw openError(edge, timeout, err);
            if (!SUBPROTOCOL.equals(socket.getSubprotocol())) {
                socket.abort();
                throw new FastPubSubException(ErrorCode.PROTOCOL, "edge " + edge.wsUri() + " answered subprotocol \"" + socket.getSubprotocol() + "\", expected " + SUBPROTOCOL);
            }
            link.ws = socket;
            return link;
        });
    }

    private static FastPubSubException openError(Edge edge, Duration timeout, Throwable err) {
        Throwable c = err;
        while (c instanceof CompletionException && c.getCause() != null) c = c.getCause();
        if (c instanceof WebSocketHandshakeException) {
            int status = ((WebSocketHandshakeException) c).getResponse().statusCode();
            if (status == 401) return new FastPubSubException(ErrorCode.UNAUTHORIZED, "edge " + edge.wsUri() + " refused the token (401)", null, null, 401, c);
            if (status == 403) return new FastPubSubException(ErrorCode.FORBIDDEN, "edge " + edge.wsUri() + " denied the connection (403)", null, null, 403, c);
            return new FastPubSubException(ErrorCode.CONNECT_FAILED, "edge " + edge.wsUri() + " answered HTTP " + status, null, null, status, c);
        }
        if (c instanceof HttpTimeoutException || c instanceof TimeoutException) {
            return new FastPubSubException(ErrorCode.TIMEOUT, "opening " + edge.wsUri() + " timed out after " + timeout.toMillis() + " ms", c);
        }
        String why = c instanceof ConnectException ? "connection refused" : String.valueOf(c);
        return new FastPubSubException(ErrorCode.CONNECT_FAILED, "cannot open " + edge.wsUri() + ": " + why, c);
    }

    /** Bytes queued but not yet written (backpressure hint). */
    long bufferedBytes() {
        return bufferedBytes.get();
    }

    boolean isClosed() {
        return closed;
    }

    CompletableFuture<Void> sendText(String text) {
        return enqueue(new Frame(text, null, new CompletableFuture<>()));
    }

    CompletableFuture<Void> sendBinary(byte[] bytes) {
        return enqueue(new Frame(null, bytes, new CompletableFuture<>()));
    }

    private CompletableFuture<Void> enqueue(Frame f) {
        if (closed) {
            f.done.completeExceptionally(new FastPubSubException(ErrorCode.CLOSED, "connection closed"));
            return f.done;
        }
        bufferedBytes.addAndGet(f.size());
        outbox.add(f);
        pump();
        return f.done;
    }

    /** Sends queued frames one at a time; loops instead of recursing when a send completes at once. */
    private void pump() {
        while (true) {
            if (!sending.compareAndSet(false, true)) return;
            Frame f = outbox.poll();
            if (f == null) {
                sending.set(false);
                if (outbox.isEmpty()) return;
                continue;
            }
            if (closed) {
                finish(f, new FastPubSubException(ErrorCode.CLOSED, "connection closed"));
                sending.set(false);
                continue;
            }
            CompletableFuture<WebSocket> cf;
            try {
                cf = f.text != null ? ws.sendText(f.text, true) : ws.sendBinary(ByteBuffer.wrap(f.bytes), true);
            } catch (RuntimeException e) {
                cf = CompletableFuture.failedFuture(e);
            }
            if (cf.isDone()) {
                finish(f, errorOf(cf));
                sending.set(false);
                continue;
            }
            cf.whenComplete((w, e) -> {
                finish(f, e == null ? null : new FastPubSubException(ErrorCode.CONNECT_FAILED, "send failed: " + e, e));
                sending.set(false);
                pump();
            });
            return;
        }
    }

    private static FastPubSubException errorOf(CompletableFuture<WebSocket> done) {
        try {
            done.join();
            return null;
        } catch (RuntimeException e) {
            return new FastPubSubException(ErrorCode.CONNECT_FAILED, "send failed: " + e, e);
        }
    }

    private void finish(Frame f, FastPubSubException error) {
        bufferedBytes.addAndGet(-f.size());
        if (error == null) f.done.complete(null);
        else f.done.completeExceptionally(error);
    }

    /** Closes without waiting: a close frame, then an abort shortly after in case the peer is dead. */
    void close() {
        if (closed) return;
        closed = true;
        WebSocket socket = ws;
        if (socket != null) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "client close");
            } catch (RuntimeException e) {
                // already closing
            }
            SdkThreads.timer().schedule(socket::abort, 1, TimeUnit.SECONDS);
        }
        // Fail what is still queued; report at once (a half-dead peer may never answer the close).
        for (Frame f; (f = outbox.poll()) != null; ) finish(f, new FastPubSubException(ErrorCode.CLOSED, "connection closed"));
        end(null);
    }

    private void end(FastPubSubException error) {
        if (!finished.compareAndSet(false, true)) return;
        closed = true;
        events.onClose(error);
    }

    private final class Listener implements WebSocket.Listener {
        private StringBuilder textParts;
        private ByteArrayOutputStream binaryParts;

        @Override
        public void onOpen(WebSocket webSocket) {
            // The handlers below never block (they decode and hand off to bounded buffers), so
            // ask for everything up front instead of one request(1) round per frame.
            webSocket.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            if (!last || textParts != null) {
                if (textParts == null) textParts = new StringBuilder();
                textParts.append(data);
            }
            if (last) {
                String text = textParts != null ? textParts.toString() : data.toString();
                textParts = null;
                if (!finished.get()) events.onText(Wire.parseServerText(text));
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            byte[] frame = null;
            if (last && binaryParts == null) {
                frame = chunk;
            } else {
                if (binaryParts == null) binaryParts = new ByteArrayOutputStream();
                binaryParts.writeBytes(chunk);
                if (last) {
                    frame = binaryParts.toByteArray();
                    binaryParts = null;
                }
            }
            if (frame != null && !finished.get()) {
                try {
                    events.onDelivery(Wire.decodeDelivery(frame));
                } catch (Wire.WireException e) {
                    // Contract §3: the client drops a malformed delivery frame.
                }
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            end(new FastPubSubException(ErrorCode.CONNECT_FAILED, "connection closed (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            end(new FastPubSubException(ErrorCode.CONNECT_FAILED, "connection failed: " + error, error));
        }
    }
}
