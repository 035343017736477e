package com.fastpubsub.client;

import java.nio.file.Path;

/** Paths shared by the tests (set by surefire in client/pom.xml). */
final class TestSupport {
    private TestSupport() {}

    static Path repoRoot() {
        String p = System.getProperty("fastpubsub.repoRoot");
        if (p == null) throw new IllegalStateException("system property fastpubsub.repoRoot is not set (run the tests through Maven)");
        return Path.of(p).toAbsolutePath().normalize();
    }

    static Path sdkDir() {
        return repoRoot().resolve("sdks/java");
    }
}
