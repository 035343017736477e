package com.fastpubsub.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Token REST calls (contract v0.1 §7), authenticated with the master token. For servers and
 * tools: never ship a master token to an untrusted client.
 */
public final class Tokens {
    /** Contract §7: token calls time out after 5 s. */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Edge edge;
    private final String masterToken;

    private Tokens(Edge edge, String masterToken) {
        this.edge = edge;
        this.masterToken = masterToken;
    }

    /** Helpers for the edge at {@code url} ({@code http://127.0.0.1:7700}, {@code https://host}, …). */
    public static Tokens of(String url, String masterToken) {
        if (masterToken == null || masterToken.isEmpty()) throw FastPubSubException.badArgument("empty master token");
        return new Tokens(Edge.parse(url), masterToken);
    }

    /** Rights for one tenant: channels it may publish to and patterns it may subscribe to. */
    public record Grant(List<String> tenants, List<String> publish, List<String> subscribe) {
        public Grant {
            tenants = List.copyOf(tenants);
            publish = List.copyOf(publish);
            subscribe = List.copyOf(subscribe);
        }
    }

    /** {@code POST /v1/get-token} → the new access token {@code AT_…}. */
    public CompletableFuture<String> create(List<Grant> grants, Instant expiresAt, String createdBy, String description) {
        if (grants.isEmpty()) return CompletableFuture.failedFuture(FastPubSubException.badArgument("a token needs at least one grant"));
        if (createdBy == null || createdBy.isBlank()) return CompletableFuture.failedFuture(FastPubSubException.badArgument("createdBy is blank"));
        ObjectNode body = JSON.createObjectNode();
        ObjectNode right = body.putObject("right");
        ArrayNode tg = right.putArray("tenant_grants");
        for (Grant g : grants) {
            ObjectNode o = tg.addObject();
            g.tenants().forEach(o.putArray("tenant_ids")::add);
            g.publish().forEach(o.putArray("allow_channels_pub")::add);
            g.subscribe().forEach(o.putArray("allow_channels_sub")::add);
        }
        right.putArray("allow_ip_masks");
        right.putArray("allow_regions");
        right.putArray("allowed_ws_origin");
        right.put("expires_at", expiresAt.toString());
        body.put("created_by", createdBy);
        if (description != null) body.put("description", description);
        return call("POST", "/v1/get-token", body).thenApply(reply -> field(reply, "token", "get-token"));
    }

    /** Shorthand: one tenant, the given publish and subscribe rules, {@code ttl} from now. */
    public CompletableFuture<String> create(String tenant, List<String> publish, List<String> subscribe, Duration ttl) {
        return create(List.of(new Grant(List.of(tenant), publish, subscribe)), Instant.now().plus(ttl), "fastpubsub-java", null);
    }

    /** The reply of {@code PUT /v1/refresh-token}. */
    public record Refreshed(String message, String newExpiresAt) {}

    /** {@code PUT /v1/refresh-token}: changes only the expiry. */
    public CompletableFuture<Refreshed> refresh(String tokenId, Instant expiresAt) {
        ObjectNode body = JSON.createObjectNode().put("token_id", tokenId).put("expires_at", expiresAt.toString());
        return call("PUT", "/v1/refresh-token", body)
                .thenApply(r -> new Refreshed(field(r, "message", "refresh-token"), field(r, "new_expires_at", "refresh-token")));
    }

    /** {@code DELETE /v1/revoke-token} with a JSON body → the server's message. */
    public CompletableFuture<String> revoke(String token) {
        return call("DELETE", "/v1/revoke-token", JSON.createObjectNode().put("token", token))
                .thenApply(r -> field(r, "message", "revoke-token"));
    }

    /** The id part of {@code AT_{id}_{secret}} (contract §7). */
    public static String tokenId(String token) {
        String rest = token.startsWith("AT_") ? token.substring(3) : token;
        int i = rest.indexOf('_');
        if (i <= 0 || i == rest.length() - 1) throw FastPubSubException.badArgument("not an access token (expected AT_{id}_{secret})");
        return rest.substring(0, i);
    }

    private CompletableFuture<JsonNode> call(String method, String path, JsonNode body) {
        String where = method + " " + edge.httpUri() + path;
        HttpRequest req;
        try {
            req = HttpRequest.newBuilder(URI.create(edge.httpUri() + path))
                    .timeout(CALL_TIMEOUT)
                    .header("authorization", "Bearer " + masterToken)
                    .header("content-type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                    .build();
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new FastPubSubException(ErrorCode.BAD_ARGUMENT, "cannot encode the request: " + e.getMessage(), e));
        }
        return SdkThreads.http().sendAsync(req, HttpResponse.BodyHandlers.ofString())
                .orTimeout(CALL_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS)
                .handle((res, err) -> {
                    if (err != null) {
                        Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
                        boolean timedOut = c instanceof java.net.http.HttpTimeoutException || c instanceof java.util.concurrent.TimeoutException;
                        throw new FastPubSubException(timedOut ? ErrorCode.TIMEOUT : ErrorCode.CONNECT_FAILED, where + " failed: " + c, c);
                    }
                    int status = res.statusCode();
                    String text = res.body();
                    if (status < 200 || status > 299) {
                        ErrorCode code = status == 401 ? ErrorCode.UNAUTHORIZED : status == 403 ? ErrorCode.FORBIDDEN : ErrorCode.HTTP;
                        String shown = text.length() > 200 ? text.substring(0, 200) : text;
                        throw new FastPubSubException(code, method + " " + path + " answered HTTP " + status + (shown.isEmpty() ? "" : ": " + shown), null, text, status, null);
                    }
                    try {
                        return JSON.readTree(text);
                    } catch (IOException e) {
                        throw new FastPubSubException(ErrorCode.PROTOCOL, method + " " + path + " answered non-JSON", null, text, status, e);
                    }
                });
    }

    private static String field(JsonNode reply, String name, String what) {
        JsonNode v = reply == null ? null : reply.get(name);
        if (v == null || !v.isTextual()) throw new FastPubSubException(ErrorCode.PROTOCOL, what + " reply lacks \"" + name + "\"");
        return v.asText();
    }
}
