package com.fastpubsub.client;

/**
 * A snapshot of one subscription's counters.
 *
 * @param received messages that reached the subscription
 * @param dropped messages discarded because its buffer was full
 * @param buffered messages waiting to be consumed
 */
public record SubscriptionStats(long received, long dropped, long buffered) {}
