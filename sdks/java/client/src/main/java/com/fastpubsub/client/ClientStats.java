package com.fastpubsub.client;

/**
 * A snapshot of the client's counters.
 *
 * @param published messages handed to a connection
 * @param queued messages waiting in the publish queue (no connection)
 * @param queueDropped messages the publish queue dropped by its policy
 * @param duplicatesDropped deliveries dropped as duplicates during a make-before-break overlap
 * @param reconnects connections that became active after the first
 */
public record ClientStats(long published, long queued, long queueDropped, long duplicatesDropped, long reconnects) {}
