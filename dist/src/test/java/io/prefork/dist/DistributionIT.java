package io.prefork.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive, unpacked in an empty directory and run with nothing but a JDK on the
 * PATH (no Maven, no source tree): it serves the hello app, and stops gracefully on TERM.
 */
@Timeout(180)
class DistributionIT {
    @TempDir
    Path dir;

    @Test
    void unpackedWithOnlyAJdkItServesTheHelloApp() throws Exception {
        Path archive = Path.of(System.getProperty("prefork.dist"));
        assertTrue(Files.isRegularFile(archive), "the archive " + archive);
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", dir.toString()).inheritIO().start();
        assertTrue(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar -xzf " + archive);
        Path home;
        try (var entries = Files.list(dir)) {
            home = entries.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        for (String part : List.of("bin/prefork", "lib/prefork-supervisor.jar", "examples/prefork-examples.jar",
                "recipes/systemd/prefork.service", "README.md", "PROTOCOL.md")) {
            assertTrue(Files.exists(home.resolve(part)), "the distribution holds " + part);
        }
        Path log = dir.resolve("prefork.log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/prefork").toString(), "-w", "1", "-b", "127.0.0.1:0",
                "--worker-start", "plain", "--ctl-socket", dir.resolve("prefork.ctl").toString())
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Path jdkBin = Path.of(System.getProperty("java.home"), "bin");
        pb.environment().clear();
        pb.environment().put("PATH", jdkBin + ":/usr/bin:/bin"); // a JDK and the base system: no mvn here
        pb.environment().put("HOME", dir.toString());
        Process prefork = pb.start();
        List<ProcessHandle> started = new ArrayList<>();
        try {
            int port = Integer.parseInt(await(log, "listening on 127\\.0\\.0\\.1:(\\d+)").group(1));
            await(log, "BOOTING -> READY");
            prefork.descendants().forEach(started::add);
            assertEquals("Hello, world!\n", get(port));
            // The default --cache-dir follows $HOME, as the script's does: the jffi copy the JVMs load
            // and the supervisor's class archive, both here, none in the password database's home.
            try (var cache = Files.list(dir.resolve(".cache/prefork"))) {
                List<String> names = cache.map(f -> f.getFileName().toString()).toList();
                assertTrue(names.stream().anyMatch(n -> n.startsWith("jffi-")), "the jffi copy in $HOME/.cache: " + names);
                assertTrue(names.stream().anyMatch(n -> n.startsWith("supervisor-")), "the supervisor's archive: " + names);
            }
            prefork.toHandle().destroy(); // SIGTERM: a graceful stop
            assertTrue(prefork.waitFor(30, TimeUnit.SECONDS), "stopped within 30 s:\n" + Files.readString(log));
            assertEquals(0, prefork.exitValue(), Files.readString(log));
            assertTrue(Files.readString(log).contains("all workers are gone; exiting"), Files.readString(log));
        } finally {
            prefork.descendants().forEach(started::add);
            prefork.destroyForcibly();
            started.forEach(ProcessHandle::destroyForcibly);
            prefork.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Matcher await(Path log, String regex) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Pattern pattern = Pattern.compile(regex);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = pattern.matcher(text);
            if (m.find()) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for /" + regex + "/ in the log:\n" + text);
            }
            Thread.sleep(20);
        }
    }

    /** One HTTP/1.1 GET / with Connection: close; the body. */
    private static String get(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }
}
