package com.fastpubsub.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A real relay from this repository (the node CLI), on loopback, stopped with SIGTERM. */
final class RelayProcess implements AutoCloseable {
    static final String MASTER = "java-sdk-tests-master-token-0123456789abcdef";
    private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:(\\d+))");

    final Path dataDir;
    private final boolean ownDataDir;
    private Process process;
    private URI url;
    private int port;

    private RelayProcess(Path dataDir, boolean ownDataDir) {
        this.dataDir = dataDir;
        this.ownDataDir = ownDataDir;
    }

    static RelayProcess start() throws Exception {
        RelayProcess r = new RelayProcess(Files.createTempDirectory("fps-java-relay-"), true);
        r.launch(0);
        return r;
    }

    URI url() {
        return url;
    }

    int port() {
        return port;
    }

    private void launch(int listenPort) throws Exception {
        Path root = TestSupport.repoRoot();
        Path cli = root.resolve("packages/cli/bin/fastpubsub.js");
        if (!Files.isRegularFile(cli)) throw new IllegalStateException("the relay CLI is missing: " + cli + " (run npm ci / npm run build at the repo root)");
        // Short grace periods keep test shutdowns quick. The Java SDK speaks WebSocket only, so the
        // QUIC edge is off: a restart on the same HTTP port must not race for UDP port + 1.
        Path config = dataDir.resolve("relay-test-config.json");
        Files.writeString(config, "{\"reconnectGraceMs\": 1000, \"shutdownGraceMs\": 2000, \"quic\": {\"enabled\": false}}");
        ProcessBuilder pb = new ProcessBuilder("node", cli.toString(), "relay",
                "--listen", "127.0.0.1:" + listenPort, "--master-token", MASTER,
                "--data-dir", dataDir.toString(), "--config", config.toString(), "--log-level", "warn")
                .directory(root.toFile())
                .redirectErrorStream(true);
        process = pb.start();
        CompletableFuture<URI> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                StringBuilder early = new StringBuilder();
                for (String line; (line = in.readLine()) != null; ) {
                    Matcher m = LISTENING.matcher(line);
                    if (!ready.isDone() && m.find()) ready.complete(URI.create(m.group(1)));
                    else if (!ready.isDone() && early.length() < 4000) early.append(line).append('\n');
                }
                ready.completeExceptionally(new IllegalStateException("relay exited before listening:\n" + early));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "relay-output");
        reader.setDaemon(true);
        reader.start();
        try {
            url = ready.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
        port = url.getPort();
    }

    /** Stops the relay and starts a new one on the same port and data dir (tokens survive). */
    void restart() throws Exception {
        stop(true);
        launch(port);
    }

    /** SIGTERM (graceful: RECONNECT, then close) or SIGKILL; waits for the exit, bounded. */
    void stop(boolean graceful) throws InterruptedException {
        if (process == null || !process.isAlive()) return;
        if (graceful) process.destroy();
        else process.destroyForcibly();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** A token for tenant {@code tenant} with the given rules, valid for {@code ttl}. */
    String token(String tenant, List<String> pub, List<String> sub, Duration ttl) throws Exception {
        return Tokens.of(url.toString(), MASTER).create(tenant, pub, sub, ttl).get(10, TimeUnit.SECONDS);
    }

    String token() throws Exception {
        return token("demo", List.of("#"), List.of("#"), Duration.ofHours(1));
    }

    @Override
    public void close() throws java.io.IOException {
        try {
            stop(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        if (ownDataDir) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
