package com.fastpubsub.client;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SDK's threads, shared by every client in the process so their number stays bounded no
 * matter how many clients are opened: one timer thread, a small worker pool (WebSocket and HTTP
 * callbacks, event and onMessage dispatch) and one HttpClient (whose selector thread the JDK
 * owns). Every thread is a daemon and idle workers exit, so the SDK never keeps a JVM alive.
 */
final class SdkThreads {
    /** Upper bound of worker threads (the tests check it). */
    static final int MAX_WORKERS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    static final String THREAD_PREFIX = "fastpubsub-";

    private SdkThreads() {}

    private static ThreadFactory daemonFactory(String kind) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, THREAD_PREFIX + kind + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static final class Holder {
        static final ScheduledThreadPoolExecutor TIMER = timer();
        static final ThreadPoolExecutor WORKERS = workers();
        static final HttpClient HTTP = HttpClient.newBuilder()
                .executor(WORKERS)
                .connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1)
                .build();

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemonFactory("timer"));
            t.setRemoveOnCancelPolicy(true);
            t.setKeepAliveTime(10, TimeUnit.SECONDS);
            t.allowCoreThreadTimeOut(true);
            return t;
        }

        private static ThreadPoolExecutor workers() {
            ThreadPoolExecutor w = new ThreadPoolExecutor(MAX_WORKERS, MAX_WORKERS, 10, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemonFactory("worker"));
            w.allowCoreThreadTimeOut(true);
            return w;
        }
    }

    static ScheduledThreadPoolExecutor timer() {
        return Holder.TIMER;
    }

    static Executor workers() {
        return Holder.WORKERS;
    }

    static HttpClient http() {
        return Holder.HTTP;
    }
}
