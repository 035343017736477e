package com.fastpubsub.client;

/** What the publish queue does when it is full while disconnected. */
public enum QueuePolicy {
    /** Drop the oldest queued message (default); counted in {@link ClientStats#queueDropped()}. */
    DROP_OLDEST,
    /** Drop the new message; counted. */
    DROP_NEWEST,
    /** Fail the publish with {@link ErrorCode#QUEUE_FULL}. */
    ERROR
}
