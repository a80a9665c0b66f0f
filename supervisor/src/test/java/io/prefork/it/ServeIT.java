package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Workers serve from the supervisor's sockets: TCP v4, v6, Unix, several at once; the example servers start no MBean server. */
@Timeout(120)
class ServeIT {
    private static final Duration BOOT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void twoWorkersServeFromTheOneSocketTheSupervisorBound() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0")) {
            int port = s.port();
            Map<Integer, Long> ready = s.awaitReadyWorkers(2, BOOT);

            Set<Long> servedBy = new HashSet<>();
            for (int i = 0; i < 200 && servedBy.size() < 2; i++) {
                Http.Response r = Http.get(port, "/");
                assertEquals(200, r.status());
                assertEquals("Hello, world!\n", r.body());
                servedBy.add(r.workerPid());
            }
            assertEquals(new HashSet<>(ready.values()), servedBy, "both workers answer, and only they do");
            assertFalse(servedBy.contains(s.pid()), "the supervisor is not in the data path");

            List<Long> listening = ProcFs.listeningInodes(port);
            assertEquals(1, listening.size(), "exactly one listening socket on the port: nobody bound a second");
            long inode = listening.get(0);
            assertTrue(ProcFs.socketInodes(s.pid()).contains(inode), "the supervisor holds the listener");
            for (long worker : servedBy) {
                assertTrue(ProcFs.socketInodes(worker).contains(inode), "worker " + worker + " holds the same socket");
            }
        }
    }

    /**
     * The Jetty and Tomcat examples keep their servers from starting the platform MBean server
     * (README, "Making your app a worker"): HelloApp tells Jetty how many references fill a cache
     * line, which Jetty would otherwise ask it; TomcatApp turns off Tomcat's MBean registry. That is
     * 450-530 classes and 100-300 ms of every start. A new Jetty or Tomcat that started it anyway would
     * fail here; {@code started} is a class each loads where it would, so the check cannot pass early.
     */
    @ParameterizedTest
    @CsvSource({"HelloApp, org.eclipse.jetty.util.MemoryUtils", "TomcatApp, org.apache.catalina.core.StandardServer"})
    void theJettyAndTomcatExamplesServeWithoutThePlatformMBeanServer(String app, String started) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));  // Tomcat's work directory
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", "io.prefork.examples." + app, "--jvm-opt=-Djava.io.tmpdir=" + tmp,
                "--jvm-opt=-Xlog:class+load=info:file=" + dir.resolve("classes-%p.log"))) {
            long worker = s.awaitReadyWorkers(1, BOOT).get(1);
            assertEquals(200, Http.get(s.port(), "/").status());
            String loaded = Files.readString(dir.resolve("classes-" + worker + ".log"));
            assertTrue(loaded.contains(" " + started + " "), started + " was loaded:\n" + s.logText());
            assertFalse(loaded.contains(" com.sun.jmx.mbeanserver.JmxMBeanServer "), app + " started the platform MBean server");
        }
    }

    @Test
    void unixIpv6AndSeveralBindsAllServe() throws Exception {
        Path sock = dir.resolve("prefork.sock");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "unix:" + sock,
                "-b", "127.0.0.1:0", "-b", "[::1]:0")) {
            s.awaitReadyWorkers(1, BOOT);
            int v4 = s.port();
            int v6 = Integer.parseInt(s.awaitLine("listening on \\[::1\\]:(\\d+)", BOOT).group(1));

            assertEquals("Hello, world!\n", Http.get(Http.unix(sock), "/", Duration.ofSeconds(20)).body());
            assertEquals("Hello, world!\n", Http.get(new InetSocketAddress("::1", v6), "/", Duration.ofSeconds(20)).body());
            assertEquals("Hello, world!\n", Http.get(v4, "/").body());

            Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "20", "--unix-socket", sock.toString(),
                    "http://localhost/").redirectErrorStream(true).start();
            assertTrue(curl.waitFor(30, TimeUnit.SECONDS), "curl finished");
            assertEquals("Hello, world!\n", new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
        assertFalse(Files.exists(sock), "the supervisor removes its socket file when it exits");
    }

    @Test
    void anAppThatKnowsNothingOfPreforkIsReadyOnceItAccepts() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0",
                "--app", "io.prefork.examples.PlainApp")) {
            int port = s.port();
            long pid = s.awaitReadyWorkers(1, BOOT).get(1);
            s.awaitLine("pid " + pid + "\\): ready \\(the app accepts on its listener\\)", BOOT);
            Http.Response r = Http.get(port, "/");
            assertEquals("Hello from a plain app\n", r.body());
            assertEquals(pid, r.workerPid());
        }
    }

    /** --app-jar: the jar's Main-Class runs, with the jar as the whole app classpath. */
    @Test
    void anExecutableJarRunsItsMainClass() throws Exception {
        java.nio.file.Path jar = Jars.executableExample(dir, "io.prefork.examples.UnawareJettyApp");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "127.0.0.1:0", "--app-jar", jar.toString())) {
            int port = s.port();
            s.awaitReadyWorkers(1, BOOT);
            assertEquals("Hello from an unaware app\n", Http.get(port, "/").body());
            assertTrue(s.logText().contains("starting 1 worker(s): io.prefork.examples.UnawareJettyApp"), s.logText());
        }
    }
}
