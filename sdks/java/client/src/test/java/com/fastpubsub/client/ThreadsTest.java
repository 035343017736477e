package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** No thread leaks: many clients share a bounded set of daemon threads, and closing leaves nothing behind. */
@Timeout(120)
class ThreadsTest {
    static Set<Thread> sdkThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(SdkThreads.THREAD_PREFIX))
                .collect(Collectors.toSet());
    }

    static Set<Long> nonDaemonIds() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !t.isDaemon())
                .map(Thread::getId)
                .collect(Collectors.toSet());
    }

    @Test
    void manyClientsShareBoundedDaemonThreadsAndCloseCleanly() throws Exception {
        try (RelayProcess relay = RelayProcess.start()) {
            String token = relay.token();
            Set<Long> nonDaemonBefore = nonDaemonIds();
            for (int round = 0; round < 3; round++) {
                FastPubSub[] clients = new FastPubSub[8];
                for (int i = 0; i < clients.length; i++) {
                    clients[i] = FastPubSub.connect(relay.url(), Options.withToken(token)).get(15, TimeUnit.SECONDS);
                    Subscription s = clients[i].subscribe("demo", "threads." + i).get(5, TimeUnit.SECONDS);
                    clients[i].publish("demo", "threads." + i, new byte[] {1}).get();
                    s.onMessage(m -> { });
                }
                Set<Thread> live = sdkThreads();
                assertTrue(live.size() <= SdkThreads.MAX_WORKERS + 1, "SDK threads bounded, got " + live.size() + ": " + live);
                for (Thread t : live) assertTrue(t.isDaemon(), t.getName() + " must be a daemon");
                for (FastPubSub c : clients) c.close();
                for (FastPubSub c : clients) assertEquals(ClientState.CLOSED, c.state());
            }
            // Closing leaves no non-daemon thread behind (none keeps the JVM alive).
            Set<Long> after = nonDaemonIds();
            after.removeAll(nonDaemonBefore);
            assertEquals(Set.of(), after, "non-daemon threads created by the SDK");
            // Idle workers exit (keep-alive 10 s), so an idle SDK costs no threads at all.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!sdkThreads().isEmpty() && System.nanoTime() < deadline) Thread.sleep(200);
            assertEquals(Set.of(), sdkThreads().stream().map(Thread::getName).collect(Collectors.toSet()), "SDK threads left after 30 s idle");
        }
    }
}
