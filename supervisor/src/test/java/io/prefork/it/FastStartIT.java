package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.unix.Linux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** --worker-start fast: a class archive trained once, reused, and rebuilt when corrupt or stale. */
@Timeout(240)
class FastStartIT {
    private static final Duration BOOT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    private Path cache;
    private Path appJar;

    /** Each test's own cache directory, and the hello app's jar deployed where the workers load it. */
    @BeforeEach
    void deployTheApp() throws Exception {
        cache = dir.resolve("cache");
        appJar = dir.resolve("app.jar");
        Jars.deploy(Jars.EXAMPLES, appJar);
    }

    private String[] args(Path cache, Path appJar) {
        return new String[] {"-w", "1", "-b", "127.0.0.1:0", "--worker-start", "fast", "--cache-dir", cache.toString(),
            "--app-classpath", appJar.toString()};
    }

    private static List<Path> archives(Path cache) throws Exception {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(f -> f.getFileName().toString().startsWith("worker-") && !f.getFileName().toString().endsWith(".ok")).sorted().toList();
        }
    }

    private static String commandLine(long pid) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    /** Runs a supervisor until it has a READY worker started with the archive, then stops it. */
    private String runUntilAWorkerUsesTheArchive(Path cache, Path appJar) throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, args(cache, appJar))) {
            s.awaitLine("class archive .*(ready|valid)", BOOT);
            long first = s.awaitReadyWorkers(1, BOOT).get(1);
            long pid = first;
            if (!commandLine(first).contains("Archive")) {
                s.signal(Linux.SIGTTIN); // the first worker started before the training run was done
                pid = s.awaitReadyWorkers(2, BOOT).get(2);
            }
            String cmd = commandLine(pid);
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(BOOT));
            assertTrue(cmd.contains("-XX:SharedArchiveFile=" + cache) || cmd.contains("-XX:AOTCache=" + cache), cmd);
            return s.logText();
        }
    }

    @Test
    void theArchiveIsTrainedOnceAndReusedByTheNextSupervisor() throws Exception {
        String first = runUntilAWorkerUsesTheArchive(cache, appJar);
        assertTrue(first.contains("started to train the class archive"), first);
        assertTrue(first.contains("INFO trainer (pid "), "the log names the training run as what it is:\n" + first);
        assertTrue(first.contains("trainer (pid ") && first.contains("the class archive's training run: the app boots now"), first);
        assertTrue(first.contains("trainer (pid ") && first.contains("warmed up through Prefork.onWarmUp: 1 requests to /"),
                "the training run served --training-requests through the app's hook:\n" + first);
        assertFalse(first.contains("Skipping"), "the JVM's per-class training warnings stay out of the log:\n" + first);
        List<Path> trained = archives(cache);
        assertEquals(1, trained.size(), trained.toString());
        long size = Files.size(trained.get(0));

        String second = runUntilAWorkerUsesTheArchive(cache, appJar);
        // The note the first supervisor left beside it spares the second a JVM start before its first worker.
        assertTrue(second.contains("class archive " + trained.get(0) + ": valid (the JVM took it when it was made); workers start with it"), second);
        assertFalse(second.contains("started to train"), "reused, not trained again");
        assertEquals(trained, archives(cache));
        assertEquals(size, Files.size(trained.get(0)));
    }

    @Test
    void aCorruptArchiveIsDetectedAndRebuilt() throws Exception {
        runUntilAWorkerUsesTheArchive(cache, appJar);
        Path archive = archives(cache).get(0);
        archive.toFile().setWritable(true);
        byte[] bytes = Files.readAllBytes(archive);
        for (int i = 0; i < 4096; i++) {
            bytes[i] = (byte) 0x5a; // the header: what a truncated or overwritten file looks like
        }
        Files.write(archive, bytes);

        String log = runUntilAWorkerUsesTheArchive(cache, appJar);
        assertTrue(log.contains("class archive " + archive + " is unusable"), log);
        assertTrue(log.contains("started to train the class archive " + archive), log);
        assertTrue(log.contains("class archive ready: " + archive), log);
    }

    @Test
    void aChangedJarGetsItsOwnArchive() throws Exception {
        runUntilAWorkerUsesTheArchive(cache, appJar);
        Path old = archives(cache).get(0);

        Jars.deploy(Jars.exampleWithGreeting(dir, "v2.jar", "Hello from v2\n"), appJar);
        String log = runUntilAWorkerUsesTheArchive(cache, appJar);
        assertFalse(log.contains("class archive " + old), "the archive of the old jar is stale and not used");
        List<Path> now = archives(cache);
        assertEquals(2, now.size(), now.toString());
        assertNotEquals(old, now.get(now.indexOf(old) == 0 ? 1 : 0));
    }

    @Test
    void aReloadOntoTheSameConfigurationTrustsTheArchiveItAlreadyChecked() throws Exception {
        try (RunningSupervisor s = RunningSupervisor.start(dir, args(cache, appJar))) {
            s.awaitLine("class archive ready: ", BOOT);
            Path archive = archives(cache).get(0);
            s.awaitReadyWorkers(1, BOOT);
            s.signal(Linux.SIGHUP);
            s.awaitLine("rolling restart done", BOOT);
            // Checking it again would start a JVM on the loop thread and hold up every event meanwhile.
            String trusted = "class archive " + archive + ": valid (checked before by this supervisor)";
            assertTrue(s.logText().contains(trusted), s.logText());

            // A file put in its place since is not the one checked: the JVM checks it.
            Path copy = dir.resolve("copy");
            Files.copy(archive, copy);
            Files.move(copy, archive, StandardCopyOption.REPLACE_EXISTING);
            s.signal(Linux.SIGHUP);
            s.awaitMatch(Pattern.compile("rolling restart done"), 1, BOOT);
            assertTrue(s.logText().contains("class archive " + archive + ": valid; workers start with it"), s.logText());
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(BOOT));
        }
    }

    /**
     * Apps with no warm-up hook: those that take their listener from the JVM (System.inheritedChannel())
     * and know nothing of prefork, and one that asks Prefork.listeners() (Tomcat's helper). The training
     * run serves its request (--training-requests 1, the default) on a private loopback listener the app
     * gets as its only one, then parks, so they get an archive that holds what a request loads too: a
     * worker started from it loads no class from the jars, not even for its first request. No process
     * of the server listens on anything but the configured bind, save the training run on loopback
     * (before, Jetty bound a port of its own on all interfaces for the 60 s of the boot timeout).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"io.prefork.examples.UnawareJettyApp", "io.prefork.examples.PlainApp",
        "io.prefork.examples.TomcatApp"})
    void anAppWithNoWarmUpHookIsTrainedOnARequestAndBindsNothingOfItsOwn(String app) throws Exception {
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));  // Tomcat's work directories go here, not in /tmp
        List<String> args = new java.util.ArrayList<>(List.of(args(cache, appJar)));
        args.addAll(List.of("--app", app, "--jvm-opt=-Xlog:class+load=info:file=" + classes.resolve("%p.log"),
                "--jvm-opt=-Djava.io.tmpdir=" + tmp));
        try (RunningSupervisor s = RunningSupervisor.start(dir, args.toArray(String[]::new))) {
            int port = s.port();
            Listening seen = new Listening();
            sampleListeners(s, seen, () -> s.logText().contains("class archive ready") && !s.readyWorkers().isEmpty());
            long first = s.readyWorkers().get(1);
            s.signal(Linux.SIGHUP); // the next worker starts from the archive
            sampleListeners(s, seen, () -> s.logText().contains("rolling restart done"));
            long next = s.readyWorkers().get(1);
            assertNotEquals(first, next);
            assertTrue(commandLine(next).contains("-XX:SharedArchiveFile="), "the worker runs with the archive");
            assertEquals(200, Http.get(port, "/").status());

            java.util.regex.Matcher trained = s.awaitLine(
                    "prefork trainer \\(pid (\\d+)\\): warmed up on a private loopback listener: 1 requests to /", BOOT);
            assertEquals(java.util.Set.of("127.0.0.1:" + port), seen.server, "every TCP socket the serving processes listened on");
            assertFalse(seen.trainer.isEmpty(), "the training run's private listener was seen");
            assertTrue(seen.trainer.stream().allMatch(a -> a.startsWith("127.0.0.1:") && !a.equals("127.0.0.1:" + port)),
                    "the training run listened on loopback only, and never on the bind: " + seen.trainer);
            List<String> fromJars = Files.readAllLines(classes.resolve(next + ".log")).stream()
                    .filter(line -> line.contains("source: file:") || line.contains("source: jar:")).toList();
            assertEquals(List.of(), fromJars, "classes worker " + next + " loaded from the jars, not from the archive"
                    + " the training run " + trained.group(1) + " made");
        }
    }

    /**
     * With a unix socket as the first bind, an app that takes its listener from the JVM expects a unix
     * channel there: its training run gets no TCP listener in its place and parks at once.
     */
    @Test
    void withAUnixFirstBindTheTrainingRunOfAnUnawareAppServesNoRequest() throws Exception {
        Path socket = dir.resolve("app.sock");
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "1", "-b", "unix:" + socket, "--worker-start", "fast",
                "--cache-dir", cache.toString(), "--app-classpath", appJar.toString(), "--app", "io.prefork.examples.PlainApp")) {
            s.awaitLine("class archive ready: ", BOOT);
            String log = s.logText();
            assertTrue(log.contains("the class archive's training run: the app boots now, serves 1 request(s) to /"
                    + " through its warm-up hook if it has one, and is stopped once it waits"), log);
            assertFalse(log.contains("warmed up"), "the app has no hook, and no TCP listener takes its unix one's place:\n" + log);
            s.signal(Linux.SIGHUP);  // a worker from the archive
            s.awaitLine("rolling restart done", BOOT);
            assertEquals(200, Http.get(Http.unix(socket), "/", BOOT).status());
        }
    }

    /** The TCP sockets the training run listened on, and those the rest of the server listened on. */
    private static final class Listening {
        final java.util.Set<String> server = new java.util.TreeSet<>();
        final java.util.Set<String> trainer = new java.util.TreeSet<>();
    }

    /** Samples the TCP sockets the server's processes listen on into {@code seen}, until {@code done}. */
    private static void sampleListeners(RunningSupervisor s, Listening seen, java.util.function.BooleanSupplier done)
            throws Exception {
        long deadline = System.nanoTime() + BOOT.toNanos();
        Pattern trainer = Pattern.compile("INFO trainer \\(pid (\\d+)\\): started");
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out after " + BOOT + ":\n" + s.logText());
            assertFalse(s.logText().contains("class archive training failed"), s.logText());
            java.util.regex.Matcher m = trainer.matcher(s.logText());
            long trainerPid = m.find() ? Long.parseLong(m.group(1)) : -1;
            List<Long> server = new java.util.ArrayList<>(List.of(s.pid()));
            s.process.descendants().filter(h -> h.pid() != trainerPid).forEach(h -> server.add(h.pid()));
            seen.server.addAll(ProcFs.tcpListenersHeldBy(server));
            if (trainerPid > 0) {
                seen.trainer.addAll(ProcFs.tcpListenersHeldBy(List.of(trainerPid)));
            }
            RunningSupervisor.pause(5);
        }
    }
}
