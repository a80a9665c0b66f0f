package io.prefork.supervisor.boot;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Flag;
import io.prefork.supervisor.Fuzz;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.UsageException;
import io.prefork.supervisor.net.SocketActivation;
import io.prefork.supervisor.systemd.Systemd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzing what the supervisor reads at start: the command line, the config file, and systemd's
 * environment (LISTEN_FDS and LISTEN_FDNAMES, NOTIFY_SOCKET, WATCHDOG_USEC). Bad input must become a
 * UsageException (one line on stderr, exit 2) or a warning, never another exception or a hang.
 */
@Timeout(120)
class EnvironmentFuzzTest {
    private static final List<String> VALUES = List.of("", "0", "1", "-1", "2.5", "1e99", "abc", "99999999999999999999",
            "127.0.0.1:0", "[::1]:0", "unix:/tmp/prefork-fuzz.sock", "auto", "off", "fast", "trained", "plain", "/",
            "shared", "reuseport", "app", "root", "nobody", "/nonexistent/file", ":", "=");

    @TempDir
    Path dir;

    private static List<String> seeds() {
        List<String> seeds = new ArrayList<>();
        for (Flag f : Flag.values()) {
            seeds.add("--" + f.longName());
        }
        seeds.addAll(VALUES);
        return seeds;
    }

    @Test
    void commandLinesParseOrAreRefusedWithAUsageLine() {
        Fuzz fuzz = new Fuzz(Fuzz.SEED + 10);
        List<String> seeds = seeds();
        for (int i = 0; i < Fuzz.INPUTS / 4; i++) {
            List<String> args = new ArrayList<>();
            int n = fuzz.random().nextInt(8);
            for (int a = 0; a < n; a++) {
                args.add(fuzz.random().nextInt(3) == 0 ? fuzz.input(seeds) : fuzz.pick(seeds));
            }
            args.removeIf(a -> a.startsWith("--config") || a.startsWith("--java"));  // files and programs: below
            parse(args.toArray(String[]::new));
        }
    }

    @Test
    void configFilesParseOrAreRefusedWithAUsageLine() throws IOException {
        Fuzz fuzz = new Fuzz(Fuzz.SEED + 11);
        List<String> lines = new ArrayList<>();
        for (Flag f : Flag.values()) {
            lines.add(f.longName() + " = " + fuzz.pick(VALUES));
        }
        lines.addAll(List.of("# a comment", "", "bind = 127.0.0.1:0, 127.0.0.1:0", "jvm-opt = -Xmx64m -Xss1m", "workers=2"));
        Path file = dir.resolve("prefork.conf");
        for (int i = 0; i < Fuzz.INPUTS / 10; i++) {
            StringBuilder text = new StringBuilder();
            int n = fuzz.random().nextInt(6);
            for (int l = 0; l < n; l++) {
                text.append(fuzz.input(lines)).append('\n');
            }
            Files.write(file, text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));  // as an editor would save it
            parse("--config", file.toString());
        }
    }

    @Test
    void systemdsEnvironmentIsTakenOrRefused() {
        Fuzz fuzz = new Fuzz(Fuzz.SEED + 12);
        long pid = ProcessHandle.current().pid();
        Log log = new Log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        List<String> numbers = List.of("0", "1", "2", "3", "1024", "1025", "-1", "2147483647", "9223372036854775807",
                "99999999999999999999", " 2 ", "x", "", Long.toString(pid));
        List<String> names = List.of("http", "http:admin", "::", "a:b:c:d", "", "x".repeat(300));
        List<String> sockets = List.of("/run/systemd/notify", "@abstract", "relative", "", "/" + "x".repeat(200));
        for (int i = 0; i < Fuzz.INPUTS; i++) {
            Map<String, String> env = new HashMap<>();
            env.put("LISTEN_PID", fuzz.random().nextBoolean() ? Long.toString(pid) : fuzz.input(numbers));
            env.put("LISTEN_FDS", fuzz.input(numbers));
            env.put("LISTEN_FDNAMES", fuzz.input(names));
            try {
                SocketActivation a = SocketActivation.fromEnvironment(env, pid);
                assertTrue(a == null || a.fds().size() <= 1024, () -> "LISTEN_FDS=" + env.get("LISTEN_FDS") + " gave " + a.fds().size());
            } catch (UsageException refused) {
                // one line on stderr, exit 2
            } catch (RuntimeException e) {
                throw new AssertionError("LISTEN_* " + env + " threw " + e, e);
            }
            env.put("NOTIFY_SOCKET", fuzz.input(sockets));
            env.put("WATCHDOG_USEC", fuzz.input(numbers));
            env.put("WATCHDOG_PID", fuzz.random().nextBoolean() ? Long.toString(pid) : fuzz.input(numbers));
            try {
                Systemd s = Systemd.fromEnvironment(env, pid, log);
                assertTrue(s == null || !s.watchdogInterval().isNegative(), "WATCHDOG_USEC=" + env.get("WATCHDOG_USEC"));
            } catch (RuntimeException e) {
                throw new AssertionError("NOTIFY_SOCKET/WATCHDOG_* " + env + " threw " + e, e);
            }
        }
    }

    // What the fuzzing found, each kept as a case of its own.

    @Test
    void aHugeListenFdsIsRefusedNotAllocated() {
        long pid = ProcessHandle.current().pid();
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> SocketActivation.fromEnvironment(
                Map.of("LISTEN_PID", Long.toString(pid), "LISTEN_FDS", "2147483647"), pid));
        assertTrue(e.getMessage().contains("LISTEN_FDS must be at most 1024 sockets"), e.getMessage());
    }

    @Test
    void aWatchdogPeriodThatWouldOverflowIsIgnoredWithAWarning() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Log log = new Log(new java.io.PrintStream(out, true));
        Systemd s = Systemd.fromEnvironment(Map.of("NOTIFY_SOCKET", "/run/systemd/notify",
                "WATCHDOG_USEC", "9223372036854775807"), 1, log);
        assertTrue(s.watchdogInterval().isZero(), s.watchdogInterval().toString());  // was negative: a ping loop without pause
        assertTrue(out.toString().contains("ignoring WATCHDOG_USEC='9223372036854775807'"), out.toString());
    }

    @Test
    void aNewlineInAnArgumentStaysInsideTheOneUsageLine() {
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> Cli.parse(
                new String[] {"--backlog", "1\n2"}));
        assertTrue(!e.getMessage().contains("\n") && e.getMessage().contains("1\\n2"), e.getMessage());
    }

    @Test
    void aNulInAPathFromTheConfigFileIsAUsageError() throws IOException {
        Path file = dir.resolve("nul.conf");
        Files.writeString(file, "pid = /run/prefork\0.pid\n");
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class, () -> Cli.parse(
                new String[] {"--config", file.toString()}));  // was an InvalidPathException with a stack trace
        assertTrue(e.getMessage().startsWith("not a usable path: "), e.getMessage());
    }

    private static void parse(String... args) {
        try {
            Cli.parse(args);
        } catch (UsageException refused) {
            assertTrue(!refused.getMessage().isBlank() && !refused.getMessage().contains("\n"),
                    "a usage error is one line: " + refused.getMessage());
        } catch (RuntimeException e) {
            String shown = String.join(" ", Arrays.stream(args).map(a -> "'" + a + "'").toList());
            throw new AssertionError(("prefork " + shown + " threw " + e).replace("\0", "\\0"), e);
        }
    }
}
