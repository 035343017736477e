package com.fastpubsub.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The bounded publish queue used while no connection is active. Guarded by the client's lock. */
final class PublishQueue {
    record Item(byte[] frame) {}

    private final int max;
    private final QueuePolicy policy;
    private final ArrayDeque<Item> items = new ArrayDeque<>();
    private long dropped;

    PublishQueue(int max, QueuePolicy policy) {
        this.max = max;
        this.policy = policy;
    }

    int size() {
        return items.size();
    }

    long dropped() {
        return dropped;
    }

    void push(Item item) {
        if (items.size() >= max) {
            if (policy == QueuePolicy.ERROR) {
                throw new FastPubSubException(ErrorCode.QUEUE_FULL, "publish queue is full (" + max + " messages) while disconnected");
            }
            dropped++;
            if (policy == QueuePolicy.DROP_NEWEST || max == 0) return;
            items.pollFirst();
        }
        items.addLast(item);
    }

    List<Item> drain() {
        List<Item> out = new ArrayList<>(items);
        items.clear();
        return out;
    }

    void clear() {
        items.clear();
    }
}
