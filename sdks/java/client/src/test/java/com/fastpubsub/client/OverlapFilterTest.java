package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OverlapFilterTest {
    static final OverlapFilter.Key K = new OverlapFilter.Key("a.#", "t", "a.b", 3, 42);

    @Test
    void oneCopyPerMessageAcrossThreeConnections() {
        OverlapFilter<String> f = new OverlapFilter<>();
        f.track("A");
        f.track("B");
        f.track("C");
        assertTrue(f.active());
        assertTrue(f.accept("A", K));
        assertFalse(f.accept("B", K));
        assertFalse(f.accept("C", K), "the third copy of one message is a duplicate too");
        // The same bytes published again: a second message, delivered once more.
        assertTrue(f.accept("C", K));
        assertFalse(f.accept("A", K));
        assertFalse(f.accept("B", K));
    }

    @Test
    void aDroppedConnectionsCountsOutliveItForTheGracePeriod() {
        OverlapFilter<String> f = new OverlapFilter<>();
        f.track("A");
        f.track("B");
        assertTrue(f.accept("A", K));
        f.forget("A");
        assertTrue(f.active(), "still active while A's counts are in their grace period");
        assertFalse(f.accept("B", K), "B's late copy of what A delivered is a duplicate");
        assertTrue(f.accept("B", K), "a second publish of the same bytes is new");
        assertFalse(f.accept("A", K), "a dropped connection delivers nothing more");
    }

    @Test
    void inactiveWithOneConnection() {
        OverlapFilter<String> f = new OverlapFilter<>();
        f.track("A");
        assertFalse(f.active());
        assertTrue(f.accept("A", K));
        assertTrue(f.accept("A", K));
    }
}
