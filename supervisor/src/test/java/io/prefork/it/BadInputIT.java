package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import io.prefork.unix.Posix;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets one line on stderr and exit 2 (usage) or 1 (runtime); never a stack trace. */
@Timeout(120)
class BadInputIT {
    @TempDir
    Path dir;

    private record Result(int code, List<String> stderr) {
    }

    private Result run(String... args) throws Exception {
        Path err = Files.createTempFile(dir, "stderr-", ".txt");
        Process p = new ProcessBuilder(RunningSupervisor.command(args))
                .directory(dir.toFile())
                .redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exits");
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    private void assertOneLine(Result r, int code, String line) {
        assertEquals(List.of(line), r.stderr(), "exactly one line, no stack trace");
        assertEquals(code, r.code());
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        assertOneLine(run("--frobnicate"), 2, "prefork: Unrecognized option: --frobnicate (see --help)");
        assertOneLine(run("-w", "0"), 2, "prefork: --workers must be a whole number from 1 to 1024, got '0'");
        assertOneLine(run("-b", "nonsense"), 2,
                "prefork: bad address 'nonsense': expected HOST:PORT, [IPV6]:PORT or unix:PATH");
    }

    @Test
    void aPortInUseExitsOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertOneLine(run("-w", "1", "-b", "127.0.0.1:" + port), 1,
                    "prefork: cannot listen on 127.0.0.1:" + port + ": Address already in use");
        }
    }

    @Test
    void anAdminPortInUseExitsOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertOneLine(run("-w", "1", "-b", "127.0.0.1:0", "--admin-bind", "127.0.0.1:" + port), 1,
                    "prefork: cannot serve --admin-bind 127.0.0.1:" + port + ": Address already in use");
        }
    }

    @Test
    void anUnwritablePidFileExitsOne() throws Exception {
        Path notADirectory = Files.createFile(dir.resolve("plain-file"));
        Path pid = notADirectory.resolve("prefork.pid");
        assertOneLine(run("-w", "1", "-b", "127.0.0.1:0", "--pid", pid.toString()), 1,
                "prefork: cannot write pid file " + pid + ": Not a directory");
    }

    @Test
    void aUnixPathALiveServerHoldsIsNotStolen() throws Exception {
        Path sock = dir.resolve("live.sock");
        int fd = Posix.socket(Linux.AF_UNIX);
        try {
            Posix.bindUnix(fd, sock.toString());
            Posix.listen(fd, 1, "test");
            assertOneLine(run("-w", "1", "-b", "unix:" + sock), 1,
                    "prefork: cannot listen on unix:" + sock + ": unix:" + sock + " is in use by a running server");
            assertTrue(Files.exists(sock));
        } finally {
            Posix.close(fd);
        }
        Path file = Files.writeString(dir.resolve("regular.txt"), "keep me");
        assertOneLine(run("-w", "1", "-b", "unix:" + file), 1,
                "prefork: cannot listen on unix:" + file + ": unix:" + file + " exists and is not a socket; not touching it");
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void aStaleUnixSocketIsReplacedAndThePidFileComesAndGoes() throws Exception {
        Path sock = dir.resolve("stale.sock");
        int fd = Posix.socket(Linux.AF_UNIX);
        Posix.bindUnix(fd, sock.toString());
        Posix.close(fd); // the file stays behind, with nobody listening: a crashed server's leftover
        assertTrue(Files.exists(sock));
        Path pid = dir.resolve("prefork.pid");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "unix:" + sock, "--pid", pid.toString())) {
            s.awaitReadyWorkers(1, Duration.ofSeconds(60));
            assertEquals(s.pid() + "\n", Files.readString(pid));
            assertEquals("Hello, world!\n", Http.get(Http.unix(sock), "/", Duration.ofSeconds(20)).body());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(40)));
        }
        assertFalse(Files.exists(pid), "the pid file is removed on exit");
    }
}
