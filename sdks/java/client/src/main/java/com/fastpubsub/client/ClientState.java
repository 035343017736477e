package com.fastpubsub.client;

/** The client's lifecycle. */
public enum ClientState {
    CONNECTING, CONNECTED, RECONNECTING, CLOSED;

    public String wireName() {
        return name().toLowerCase();
    }
}
