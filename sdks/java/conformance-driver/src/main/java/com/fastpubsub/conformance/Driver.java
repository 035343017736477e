package com.fastpubsub.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fastpubsub.client.ClientListener;
import com.fastpubsub.client.ClientState;
import com.fastpubsub.client.ClientStats;
import com.fastpubsub.client.DeliveryMode;
import com.fastpubsub.client.ErrorCode;
import com.fastpubsub.client.FastPubSub;
import com.fastpubsub.client.FastPubSubException;
import com.fastpubsub.client.Options;
import com.fastpubsub.client.QueuePolicy;
import com.fastpubsub.client.Subscription;
import com.fastpubsub.client.SubscriptionStats;
import com.fastpubsub.client.Token;
import com.fastpubsub.client.TokenProvider;
import com.fastpubsub.client.Tokens;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The conformance driver (spec/conformance/driver-protocol.md): JSON-line commands on stdin,
 * replies and events on stdout. Uses only the SDK's public API. Commands run concurrently; each
 * gets exactly one reply.
 */
public final class Driver {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One named SDK client and its named subscriptions. */
    static final class ClientCtx {
        final String name;
        volatile FastPubSub client;
        final Map<String, Subscription> subs = new ConcurrentHashMap<>();

        ClientCtx(String name) {
            this.name = name;
        }
    }

    private final PrintStream out;
    private final Map<String, ClientCtx> clients = new ConcurrentHashMap<>();
    private final ExecutorService blocking = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "driver-blocking");
        t.setDaemon(true);
        return t;
    });

    Driver(OutputStream stdout) {
        this.out = new PrintStream(stdout, false, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws IOException {
        // stdout carries protocol lines only: keep everything else on stderr.
        PrintStream realOut = System.out;
        System.setOut(System.err);
        new Driver(realOut).run(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
    }

    void run(BufferedReader in) throws IOException {
        ObjectNode ready = JSON.createObjectNode().put("event", "ready").put("sdk", "java");
        ready.putArray("transports").add("websocket");
        emit(ready);
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            JsonNode cmd;
            try {
                cmd = JSON.readTree(line);
            } catch (IOException e) {
                System.err.println("driver: unparsable line: " + line);
                continue;
            }
            handle(cmd);
        }
        closeAll();
    }

    synchronized void emit(ObjectNode line) {
        try {
            out.print(JSON.writeValueAsString(line));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        out.print('\n');
        out.flush();
    }

    private void reply(long id, ObjectNode result) {
        ObjectNode r = JSON.createObjectNode().put("id", id).put("ok", true);
        r.setAll(result);
        emit(r);
    }

    private void replyError(long id, Throwable err) {
        ObjectNode r = JSON.createObjectNode().put("id", id).put("ok", false);
        r.set("error", errorJson(err));
        emit(r);
    }

    static ObjectNode errorJson(Throwable err) {
        FastPubSubException e = err instanceof FastPubSubException ? (FastPubSubException) err : FastPubSubException.from(err);
        ObjectNode o = JSON.createObjectNode().put("code", e.code().wireName());
        if (e.serverCode() == null) o.putNull("serverCode");
        else o.put("serverCode", e.serverCode());
        o.put("message", String.valueOf(e.getMessage()));
        return o;
    }

    private void handle(JsonNode cmd) {
        long id = cmd.path("id").asLong(-1);
        String op = cmd.path("op").asText("");
        CompletableFuture<ObjectNode> result;
        try {
            result = switch (op) {
                case "connect" -> connect(cmd);
                case "subscribe" -> Ops.subscribe(this, ctx(cmd), cmd);
                case "unsubscribe" -> Ops.unsubscribe(ctx(cmd), cmd);
                case "resume" -> Ops.resume(this, ctx(cmd), cmd);
                case "publish" -> Ops.publish(ctx(cmd), cmd);
                case "flush" -> ctx(cmd).client.flush().thenApply(v -> JSON.createObjectNode());
                case "stats" -> stats(ctx(cmd), cmd);
                case "ping" -> ping(ctx(cmd));
                case "close" -> close(cmd);
                case "throughput" -> CompletableFuture.supplyAsync(() -> Throughput.run(ctx(cmd), cmd), blocking);
                case "exit" -> {
                    closeAll();
                    reply(id, JSON.createObjectNode());
                    out.flush();
                    System.exit(0);
                    yield null;
                }
                default -> CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.BAD_ARGUMENT, "unknown op \"" + op + "\""));
            };
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((r, err) -> {
            if (err != null) replyError(id, err);
            else reply(id, r);
        });
    }

    static String clientName(JsonNode cmd) {
        return cmd.path("client").asText("default");
    }

    ClientCtx ctx(JsonNode cmd) {
        ClientCtx c = clients.get(clientName(cmd));
        if (c == null || c.client == null) throw new FastPubSubException(ErrorCode.CLOSED, "no client \"" + clientName(cmd) + "\" (connect first)");
        return c;
    }

    private CompletableFuture<ObjectNode> connect(JsonNode cmd) {
        String name = clientName(cmd);
        String transport = cmd.path("transport").asText("websocket");
        if (!transport.equals("websocket")) throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "transport \"" + transport + "\" is not supported by the Java SDK");
        List<URI> edges = new ArrayList<>();
        if (cmd.hasNonNull("endpoint")) edges.add(URI.create(cmd.get("endpoint").asText()));
        for (JsonNode e : cmd.path("edges")) edges.add(URI.create(e.asText()));
        Options o = tokenOptions(name, cmd);
        JsonNode r = cmd.path("reconnect");
        if (r.isObject()) {
            o = o.reconnect(Duration.ofMillis(r.path("baseDelayMs").asLong(250)), Duration.ofMillis(r.path("maxDelayMs").asLong(10_000)));
        }
        JsonNode q = cmd.path("publishQueue");
        if (q.has("maxMessages")) o = o.publishQueue(q.get("maxMessages").asInt(), QueuePolicy.DROP_OLDEST);
        JsonNode p = cmd.path("ping");
        if (p.isObject()) o = o.ping(Duration.ofMillis(p.path("intervalMs").asLong(5000)), Duration.ofMillis(p.path("timeoutMs").asLong(10_000)));
        JsonNode b = cmd.path("subscriptionBuffer");
        if (b.has("size")) o = o.subscriptionBuffer(b.get("size").asInt());
        o = o.listener(listenerFor(name));
        ClientCtx ctx = new ClientCtx(name);
        ClientCtx previous = clients.put(name, ctx);
        if (previous != null && previous.client != null) previous.client.close();
        return FastPubSub.connect(edges, o).thenApply(client -> {
            ctx.client = client;
            return JSON.createObjectNode().put("edge", client.edge().httpUri().toString());
        });
    }

    private Options tokenOptions(String name, JsonNode cmd) {
        JsonNode tp = cmd.path("tokenProvider");
        if (!tp.isObject()) return Options.withToken(cmd.path("token").asText(""));
        Tokens tokens = Tokens.of(tp.path("url").asText(), tp.path("masterToken").asText());
        String tenant = tp.path("tenant").asText();
        List<String> pub = strings(tp.path("pub"));
        List<String> sub = strings(tp.path("sub"));
        long ttl = tp.path("ttlSeconds").asLong(3600);
        TokenProvider provider = reason -> {
            emit(JSON.createObjectNode().put("event", "token_provided").put("client", name));
            Instant expiresAt = Instant.now().plusSeconds(ttl);
            return tokens.create(List.of(new Tokens.Grant(List.of(tenant), pub, sub)), expiresAt, "java-conformance-driver", null)
                    .thenApply(t -> new Token(t, expiresAt));
        };
        return Options.withTokenProvider(provider);
    }

    static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        arr.forEach(n -> out.add(n.asText()));
        return out;
    }

    private ClientListener listenerFor(String name) {
        return new ClientListener() {
            @Override
            public void onState(ClientState state) {
                emit(JSON.createObjectNode().put("event", "state").put("client", name).put("state", state.wireName()));
            }

            @Override
            public void onError(FastPubSubException error) {
                ObjectNode e = JSON.createObjectNode().put("event", "error").put("client", name);
                e.set("error", errorJson(error));
                emit(e);
            }

            @Override
            public void onClosed(FastPubSubException error) {
                ObjectNode e = JSON.createObjectNode().put("event", "closed").put("client", name);
                if (error == null) e.putNull("error");
                else e.set("error", errorJson(error));
                emit(e);
            }
        };
    }

    private CompletableFuture<ObjectNode> stats(ClientCtx c, JsonNode cmd) {
        ObjectNode o = JSON.createObjectNode();
        if (cmd.hasNonNull("sub")) {
            Subscription s = c.subs.get(cmd.get("sub").asText());
            if (s == null) throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "no subscription \"" + cmd.get("sub").asText() + "\"");
            SubscriptionStats st = s.stats();
            o.put("received", st.received()).put("dropped", st.dropped());
        } else {
            ClientStats st = c.client.stats();
            o.put("published", st.published()).put("queued", st.queued()).put("queueDropped", st.queueDropped()).put("reconnects", st.reconnects());
        }
        return CompletableFuture.completedFuture(o);
    }

    private CompletableFuture<ObjectNode> ping(ClientCtx c) {
        ObjectNode o = JSON.createObjectNode();
        c.client.rtt().ifPresentOrElse(d -> o.put("rttMs", d.toNanos() / 1e6), () -> o.putNull("rttMs"));
        return CompletableFuture.completedFuture(o);
    }

    private CompletableFuture<ObjectNode> close(JsonNode cmd) {
        ClientCtx c = clients.remove(clientName(cmd));
        if (c != null && c.client != null) c.client.close();
        return CompletableFuture.completedFuture(JSON.createObjectNode());
    }

    private void closeAll() {
        for (ClientCtx c : clients.values()) {
            if (c.client != null) c.client.close();
        }
        clients.clear();
        blocking.shutdownNow();
        try {
            blocking.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static DeliveryMode mode(String delivery) {
        return switch (delivery) {
            case "broadcast" -> DeliveryMode.BROADCAST;
            case "one-low-latency" -> DeliveryMode.ONE_LOW_LATENCY;
            case "one-random" -> DeliveryMode.ONE_RANDOM;
            default -> throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "unknown delivery \"" + delivery + "\"");
        };
    }

    static byte[] payload(JsonNode cmd) {
        try {
            return Base64.getDecoder().decode(cmd.path("payload").asText(""));
        } catch (IllegalArgumentException e) {
            throw new FastPubSubException(ErrorCode.BAD_ARGUMENT, "payload is not base64: " + e.getMessage());
        }
    }
}
