package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The drain after --lame-duck, through each helper's {@code Prefork.awaitConnectionsClosed}: a
 * balancer has taken the server out by then and sends nothing more on a kept-alive connection, yet
 * may keep one open, idle (HAProxy does: FleetIT). It is ended as soon as it is idle, not waited for
 * until --graceful-timeout and the SIGKILL there. Without a lame duck the same connection is left to
 * its client, who may be sending its next request on it: the worker holds it, and exits once the
 * client closes it. Both with every core saturated.
 */
@Timeout(300)
class LameDuckIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"HelloApp", "TomcatApp", "NettyApp"})
    void afterTheLameDuckAnIdleKeptAliveConnectionIsEndedWithoutOneItIsLeftToItsClient(String app) throws Exception {
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = start(app, "lame-duck", "--lame-duck", "1"); Socket client = keptAlive(s)) {
            long termAt = System.nanoTime();
            s.signal(Linux.SIGTERM);
            assertEquals(-1, client.getInputStream().read(), "the worker ended the idle connection");
            assertEquals(0, s.awaitExit(Duration.ofSeconds(20)), "the supervisor's exit code");
            long ms = (System.nanoTime() - termAt) / 1_000_000;
            System.out.println(app + ": stopped " + ms + " ms after TERM with --lame-duck 1 and an idle kept-alive connection,"
                    + " CPU saturated");
            assertTrue(ms < 10_000, "stopped " + ms + " ms after TERM; --graceful-timeout is 30 s:\n" + s.logText());
            assertTrue(s.logText().contains("after its lame-duck period (idle kept-alive connections are ended)"), s.logText());
        }
        try (CpuSaturation busy = CpuSaturation.start();
             RunningSupervisor s = start(app, "no-lame-duck"); Socket client = keptAlive(s)) {
            long worker = s.readyWorkers().get(1);
            s.signal(Linux.SIGTERM);
            s.awaitLine("prefork worker 1 \\(pid " + worker + "\\): stopping: the supervisor asked; ", BOOT);
            client.setSoTimeout(1000);
            try {
                int read = client.getInputStream().read();
                throw new AssertionError("the worker ended a connection its client may still send on (read " + read + ")");
            } catch (SocketTimeoutException stillOpen) {
                // left to the client
            }
            assertTrue(s.process.isAlive(), "the server still drains");
            client.close();
            assertEquals(0, s.awaitExit(Duration.ofSeconds(20)), "the supervisor's exit code, once the client closed");
        }
    }

    private RunningSupervisor start(String app, String name, String... extra) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve(name).resolve("tmp"));  // Tomcat's work directory
        List<String> args = new ArrayList<>(List.of("-w", "1", "-b", "127.0.0.1:0", "--app", "io.prefork.examples." + app,
                "--graceful-timeout", "30", "--jvm-opt=-Djava.io.tmpdir=" + tmp));
        args.addAll(List.of(extra));
        RunningSupervisor s = RunningSupervisor.start(dir.resolve(name), args.toArray(String[]::new));
        s.awaitReadyWorkers(1, BOOT);
        return s;
    }

    /** A connection that got one whole keep-alive answer and is now idle. */
    private static Socket keptAlive(RunningSupervisor s) throws IOException {
        Socket client = new Socket("127.0.0.1", s.port());
        client.setSoTimeout(30_000);
        client.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String response = readResponse(client.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(!response.toLowerCase(Locale.ROOT).contains("connection: close"), "kept alive: " + response);
        return client;
    }

    /** One response: its head, then Content-Length bytes, or chunks up to the last one. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder r = new StringBuilder();
        while (!r.toString().contains("\r\n\r\n")) {
            r.append((char) readByte(in));
        }
        String head = r.toString().toLowerCase(Locale.ROOT);
        int at = head.indexOf("content-length:");
        if (at >= 0) {
            int length = Integer.parseInt(head.substring(at + 15, head.indexOf("\r\n", at)).trim());
            for (int i = 0; i < length; i++) {
                r.append((char) readByte(in));
            }
        } else {
            while (!r.toString().endsWith("\r\n0\r\n\r\n")) {
                r.append((char) readByte(in));
            }
        }
        return r.toString();
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new IOException("the connection closed in the middle of the response");
        }
        return b;
    }
}
