package com.fastpubsub.client;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One delivered message. {@code patterns} lists every pattern of this client that matched it
 * (from the delivery frame); {@code pattern} is the one of the subscription it was delivered to.
 * The payload array is shared by every subscription it matched: do not modify it.
 */
public record Message(String tenant, String channel, byte[] payload, List<String> patterns, String pattern) {
    /** The payload decoded as UTF-8. */
    public String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }
}
