package com.fastpubsub.client;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * One edge: its REST base ({@code http(s)://host:port}) and WebSocket URL ({@code ws(s)://host:port/ws}
 * unless the app gave a ws(s) URL with its own path). Contract v0.1 §8.
 */
public record Edge(URI httpUri, URI wsUri) {
    /** Parses {@code https://host}, {@code http://127.0.0.1:7700}, {@code wss://host/ws} or a bare {@code host[:port]}. */
    public static Edge parse(String input) {
        if (input == null || input.isBlank()) throw FastPubSubException.badArgument("empty edge URL");
        String s = input.trim();
        if (!s.matches("(?i)^[a-z][a-z0-9+.-]*://.*")) s = "https://" + s;
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw FastPubSubException.badArgument("invalid edge URL \"" + input + "\"");
        }
        return of(uri);
    }

    public static Edge of(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (uri.getHost() == null) throw FastPubSubException.badArgument("edge URL has no host: " + uri);
        boolean secure = scheme.equals("https") || scheme.equals("wss");
        if (!secure && !scheme.equals("http") && !scheme.equals("ws")) {
            throw FastPubSubException.badArgument("unsupported scheme in edge URL " + uri);
        }
        String authority = uri.getRawAuthority();
        boolean ws = scheme.equals("ws") || scheme.equals("wss");
        String path = ws && uri.getRawPath() != null && !uri.getRawPath().isEmpty() ? uri.getRawPath() : "/ws";
        String query = ws && uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "";
        return new Edge(URI.create((secure ? "https" : "http") + "://" + authority),
                URI.create((secure ? "wss" : "ws") + "://" + authority + path + query));
    }

    @Override
    public String toString() {
        return httpUri.toString();
    }
}
