package com.fastpubsub.client;

/** How the relay delivers a publish (contract v0.1 §6). */
public enum DeliveryMode {
    /** Every matching subscriber (sent as publish v1). */
    BROADCAST(0),
    /** Exactly one subscriber, the lowest-latency node first (publish v2 mode 1). */
    ONE_LOW_LATENCY(1),
    /** Exactly one subscriber, chosen at random (publish v2 mode 2). */
    ONE_RANDOM(2);

    final int wire;

    DeliveryMode(int wire) {
        this.wire = wire;
    }
}
