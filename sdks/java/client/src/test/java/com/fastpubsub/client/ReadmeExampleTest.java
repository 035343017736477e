package com.fastpubsub.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Extracts the README's Java example, compiles it as written and runs it against a real relay. */
@Timeout(120)
class ReadmeExampleTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS_NAME = Pattern.compile("public\\s+class\\s+(\\w+)");

    static String example() throws Exception {
        String readme = Files.readString(TestSupport.sdkDir().resolve("README.md"));
        Matcher m = JAVA_BLOCK.matcher(readme);
        while (m.find()) {
            if (m.group(1).contains("public static void main")) return m.group(1);
        }
        throw new AssertionError("README.md has no ```java block with a main method");
    }

    @Test
    void readmeExampleRunsAsWritten() throws Exception {
        String source = example();
        Matcher cls = CLASS_NAME.matcher(source);
        assertTrue(cls.find(), "the example declares a public class");
        Path dir = Files.createTempDirectory("fps-readme-");
        Path file = dir.resolve(cls.group(1) + ".java");
        Files.writeString(file, source);
        String classpath = System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK (javac) is needed to compile the README example");
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-cp", classpath, "-d", dir.toString(), file.toString());
        assertEquals(0, rc, "the README example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));

        try (RelayProcess relay = RelayProcess.start()) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(List.of(java, "-cp", dir + File.pathSeparator + classpath, cls.group(1)))
                    .redirectErrorStream(true);
            pb.environment().put("FASTPUBSUB_URL", relay.url().toString());
            pb.environment().put("FASTPUBSUB_TOKEN", relay.token());
            Process p = pb.start();
            // The JVM must exit on its own after main returns: the SDK keeps no non-daemon thread.
            boolean exited = p.waitFor(60, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!exited) p.destroyForcibly();
            assertTrue(exited, "the example did not exit within 60 s:\n" + out);
            assertEquals(0, p.exitValue(), "the example failed:\n" + out);
            assertEquals("chat.room1: hello [chat.#]", out.strip());
        }
    }
}
