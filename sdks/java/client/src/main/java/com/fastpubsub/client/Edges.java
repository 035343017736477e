package com.fastpubsub.client;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** Fastest-edge selection by {@code GET /ping} (contract v0.1 §7, §11.9). */
public final class Edges {
    /** Contract §7: ping timeout. */
    public static final Duration PING_TIMEOUT = Duration.ofSeconds(3);

    private Edges() {}

    /** The result of one probe: ok only for a 2xx whose trimmed body is exactly {@code pong}. */
    public record Probe(Edge edge, boolean ok, Duration rtt, String error) {}

    /** One {@code GET /ping}; never fails, the outcome is in the probe. */
    public static CompletableFuture<Probe> ping(Edge edge, Duration timeout) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(edge.httpUri() + "/ping"))
                .timeout(timeout).header("cache-control", "no-store").GET().build();
        long start = System.nanoTime();
        return SdkThreads.http().sendAsync(req, HttpResponse.BodyHandlers.ofString())
                .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((res, err) -> {
                    if (err != null) return new Probe(edge, false, null, String.valueOf(err.getCause() != null ? err.getCause() : err));
                    Duration rtt = Duration.ofNanos(System.nanoTime() - start);
                    if (res.statusCode() < 200 || res.statusCode() > 299) return new Probe(edge, false, null, "HTTP " + res.statusCode());
                    if (!res.body().trim().equals("pong")) return new Probe(edge, false, null, "unexpected body");
                    return new Probe(edge, true, rtt, null);
                });
    }

    /**
     * Probes every candidate in parallel and completes with the first that answers {@code pong};
     * fails with {@link ErrorCode#NO_EDGE} when none does within the timeout.
     */
    public static CompletableFuture<Edge> fastest(List<Edge> candidates, Duration timeout) {
        if (candidates.isEmpty()) return CompletableFuture.failedFuture(FastPubSubException.badArgument("no candidate edge"));
        CompletableFuture<Edge> winner = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(candidates.size());
        List<String> failures = new ArrayList<>();
        for (Edge e : candidates) {
            ping(e, timeout).thenAccept(p -> {
                if (p.ok()) {
                    winner.complete(p.edge());
                } else {
                    synchronized (failures) {
                        failures.add(p.edge() + ": " + p.error());
                    }
                }
                if (remaining.decrementAndGet() == 0 && !winner.isDone()) {
                    synchronized (failures) {
                        winner.completeExceptionally(new FastPubSubException(ErrorCode.NO_EDGE, "no edge answered /ping (" + String.join("; ", failures) + ")"));
                    }
                }
            });
        }
        return winner;
    }

    public static CompletableFuture<Edge> fastest(List<Edge> candidates) {
        return fastest(candidates, PING_TIMEOUT);
    }
}
