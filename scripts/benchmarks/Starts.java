package benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static benchmarks.Bench.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/** Cold starts (prefork and plain, the Spring Boot example) and JVMs that share the machine. */
final class Starts {
    private Starts() {
    }

    // ---- JVMs that share the machine (--jvm-share) ----

    /**
     * Two workers against one, and against the app as one plain JVM, with each worker JVM sized for
     * the whole machine (--jvm-share off, the JVM's defaults) or for its share (auto): throughput and
     * CPU per request after a warm-up, for the hello app and for an app that knows nothing of prefork.
     * Then the memory of 4 idle workers of the hello app, both ways (median of 3 runs each, in turn).
     */
    static Map<String, Object> share() throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        for (String app : List.of(HELLO_APP, UNAWARE_APP)) {
            String shortName = app.substring(app.lastIndexOf('.') + 1);
            List<Server> servers = new ArrayList<>();
            servers.add(Server.plain(app));
            for (String mode : List.of("off", "auto")) {
                for (String n : List.of("1", "2")) {
                    servers.add(Server.prefork(shortName + "-" + mode + "-w" + n, "-w", n, "--app", app, "--jvm-share", mode));
                }
            }
            for (Server s : servers) {
                wrk(s.port, "/", 15, false);  // C2 in every JVM before anything is measured
            }
            Map<String, List<Double>> rps = new LinkedHashMap<>();
            Map<String, List<Double>> cpu = new LinkedHashMap<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (Server s : servers) {
                    // scripts/prefork execs the supervisor's JVM: its children are the workers
                    List<Long> pids = s.name.equals("plain") ? List.of(s.process.pid())
                            : s.process.children().map(ProcessHandle::pid).toList();
                    long t0 = 0;
                    for (long pid : pids) {
                        t0 += cpuTicks(pid);
                    }
                    Wrk w = wrk(s.port, "/", SECONDS, false);
                    long t1 = 0;
                    for (long pid : pids) {
                        t1 += cpuTicks(pid);
                    }
                    rps.computeIfAbsent(s.name, k -> new ArrayList<>()).add(w.rps());
                    // 10 ms ticks; CPU ms per 1,000 requests
                    cpu.computeIfAbsent(s.name, k -> new ArrayList<>()).add((t1 - t0) * 10.0 / (w.rps() * SECONDS / 1000.0));
                }
            }
            Map<String, Object> byServer = new LinkedHashMap<>();
            rps.forEach((name, list) -> byServer.put(name.replace(shortName + "-", ""), Map.of(
                    "rps", round1(median(list)), "cpu_ms_per_1k", round1(median(cpu.get(name))),
                    "runs_rps", list.stream().map(Measure::round1).toList())));
            for (String mode : List.of("off", "auto")) {
                List<Double> two = new ArrayList<>();
                List<Double> cpuRatio = new ArrayList<>();
                for (int r = 0; r < ROUNDS; r++) {
                    two.add(rps.get(shortName + "-" + mode + "-w2").get(r) / rps.get(shortName + "-" + mode + "-w1").get(r));
                    cpuRatio.add(cpu.get(shortName + "-" + mode + "-w2").get(r) / cpu.get("plain").get(r));
                }
                byServer.put("ratio " + mode + " 2 workers / 1", Map.of("median", round3(median(two)),
                        "runs", two.stream().map(Measure::round3).toList()));
                byServer.put("cpu per request " + mode + " 2 workers / plain", Map.of("median", round3(median(cpuRatio)),
                        "runs", cpuRatio.stream().map(Measure::round3).toList()));
            }
            for (Server s : servers) {
                s.stop();
            }
            result.put(shortName, byServer);
        }
        // The third setup is not a default: it maps the class archives at the address they were made
        // for (JDK 17 GA's way), which saves each worker the copies relocation makes, at the price of
        // the archive's address randomization (the JDK's default since 20, and in later 17 updates).
        Map<String, List<String>> setups = new LinkedHashMap<>();
        setups.put("off", List.of("--jvm-share", "off"));
        setups.put("auto", List.of("--jvm-share", "auto"));
        setups.put("auto, archive unrelocated", List.of("--jvm-share", "auto", "--jvm-opt=-XX:+UnlockDiagnosticVMOptions",
                "--jvm-opt=-XX:ArchiveRelocationMode=0"));
        Map<String, List<Double>> totals = new LinkedHashMap<>();
        for (int round = 0; round < 4; round++) {  // the first trains the class archive for each command
            for (Map.Entry<String, List<String>> setup : setups.entrySet()) {
                List<String> args = new ArrayList<>(List.of("-w", "4"));
                args.addAll(setup.getValue());
                Server four = Server.prefork("pss-" + setup.getKey().replaceAll("[^a-z]+", "-") + "-" + round,
                        args.toArray(String[]::new));
                for (int i = 0; i < 400; i++) {
                    untilFirst200(four.port, System.nanoTime());
                }
                Thread.sleep(5000);
                double total = 0;
                for (long pid : four.awaitReady(4).values()) {
                    total += pss(pid) / 1024.0;
                }
                totals.computeIfAbsent(setup.getKey(), k -> new ArrayList<>()).add(round1(total));
                four.stop();
            }
        }
        Map<String, Object> memory = new LinkedHashMap<>();
        for (Map.Entry<String, List<Double>> t : totals.entrySet()) {
            List<Double> measured = t.getValue().subList(1, t.getValue().size());
            memory.put(t.getKey(), Map.of("total_pss_mib", median(measured), "runs_mib", measured,
                    "first_run_untrained_mib", t.getValue().get(0)));
        }
        result.put("idle_4_workers", memory);
        return result;
    }

    /**
     * From the command to the first 200, for the hello app and an app that knows nothing of prefork:
     * one plain JVM, {@code scripts/prefork -w 1} and {@code -w 2}, in turn in each round. Each setup
     * keeps its port from round to round, as a server's command line stays the same from one start to
     * the next. Two untimed prefork runs first: one until the workers' class archive is ready, and
     * one to its first 200, so that its first worker's command is written down
     * with the archive (scripts/prefork starts it beside the supervisor), as any server that ran
     * before has both. Medians, and the median of each round's difference to plain.
     */
    static Map<String, Object> coldStart() throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        for (String app : List.of(HELLO_APP, UNAWARE_APP)) {
            String shortName = app.substring(app.lastIndexOf('.') + 1);
            Path cache = out.resolve("cold-cache-" + shortName);
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (String kind : List.of("plain", "w1", "w2")) {
                int port = freePort();
                while (ports.containsValue(port)) {
                    port = freePort();
                }
                ports.put(kind, port);
            }
            for (String workers : List.of("1", "2")) {  // each count is another worker command (--jvm-share), another archive
                int port = ports.get("w" + workers);
                long trained = linesOfColdPrefork("class archive ready");
                Process training = coldPrefork(app, workers, port, cache);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (linesOfColdPrefork("class archive ready") == trained) {
                    if (System.nanoTime() > deadline || !training.isAlive()) {
                        throw new IllegalStateException("no class archive for " + shortName + " -w " + workers
                                + " within 120 s: see cold-prefork.log");
                    }
                    Thread.sleep(100);
                }
                stop(training);
                Process again = coldPrefork(app, workers, port, cache);
                untilFirst200(port, System.nanoTime());
                stop(again);
            }
            long takenBefore = linesOfColdPrefork(TAKEN_BESIDE);
            Map<String, List<Double>> runs = new LinkedHashMap<>();
            for (String kind : ports.keySet()) {
                runs.put(kind, new ArrayList<>());
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (String kind : runs.keySet()) {
                    int port = ports.get(kind);
                    long start = System.nanoTime();
                    Process p = kind.equals("plain")
                            ? start("cold-plain", List.of(JAVA, "-cp", plainClasspath(), app, "127.0.0.1", Integer.toString(port)))
                            : coldPrefork(app, kind.substring(1), port, cache);
                    runs.get(kind).add(round1(untilFirst200(port, start)));
                    stop(p);
                }
            }
            Map<String, Object> r = new LinkedHashMap<>();
            // How many timed prefork starts took the worker scripts/prefork started beside the supervisor.
            r.put("first_worker_taken_beside", (linesOfColdPrefork(TAKEN_BESIDE) - takenBefore) + " of " + 2 * ROUNDS);
            for (String kind : runs.keySet()) {
                r.put(kind + "_ms", round1(median(runs.get(kind))));
                r.put("runs_" + kind + "_ms", runs.get(kind));
                if (!kind.equals("plain")) {
                    List<Double> over = new ArrayList<>();
                    for (int i = 0; i < ROUNDS; i++) {
                        over.add(runs.get(kind).get(i) - runs.get("plain").get(i));
                    }
                    r.put(kind + "_over_plain_ms", round1(median(over)));
                }
            }
            result.put(shortName, r);
        }
        return result;
    }

    private static final String TAKEN_BESIDE = "started beside the supervisor, taken as worker 1";

    /** How many lines of the cold starts' log (every start appends to it) contain {@code text}. */
    private static long linesOfColdPrefork(String text) throws IOException {
        Path log = out.resolve("cold-prefork.log");
        if (!Files.exists(log)) {
            return 0;
        }
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.contains(text)).count();
        }
    }

    private static Process coldPrefork(String app, String workers, int port, Path cache) throws Exception {
        return start("cold-prefork", List.of(ROOT.resolve("scripts/prefork").toString(), "-w", workers, "-b", "127.0.0.1:" + port,
                "--app", app, "--ctl-socket", out.resolve("cold.ctl").toString(), "--cache-dir", cache.toString()));
    }

    /**
     * The Spring Boot example (an executable jar with the starter), -w 2, from the supervisor's start
     * to its first 200: workers started plain, and from the class archive (trained by an untimed start
     * first), round by round.
     */
    static Map<String, Object> springBootStart() throws Exception {
        String jar = ROOT.resolve("spring-boot-example/target/prefork-example-spring-boot.jar").toString();
        String cache = out.resolve("spring-cache").toString();
        // Spring Boot's Tomcat leaves a work directory in java.io.tmpdir per JVM (README): the run's own, not /tmp.
        Path tmp = Files.createDirectories(out.resolve("spring-tmp"));
        List<String> base = List.of(ROOT.resolve("scripts/prefork").toString(), "-w", "2", "--app-jar", jar,
                "--ctl-socket", out.resolve("spring.ctl").toString(), "--cache-dir", cache, "--jvm-opt=-Djava.io.tmpdir=" + tmp);
        int port = freePort();
        List<String> train = new ArrayList<>(base);
        train.addAll(List.of("-b", "127.0.0.1:" + port));
        Process p = start("spring-train", train);
        untilFirst200(port, System.nanoTime());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out.resolve("spring-train.log")).contains("class archive ready")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Spring Boot app's class archive was not ready within 120 s");
            }
            Thread.sleep(100);
        }
        stop(p);
        List<Double> plain = new ArrayList<>();
        List<Double> fast = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (String mode : List.of("plain", "fast")) {
                port = freePort();
                List<String> cmd = new ArrayList<>(base);
                cmd.addAll(List.of("-b", "127.0.0.1:" + port, "--worker-start", mode));
                long start = System.nanoTime();
                p = start("spring-" + mode, cmd);
                (mode.equals("plain") ? plain : fast).add(untilFirst200(port, start));
                stop(p);
            }
        }
        return Map.of("plain_ms", median(plain), "archive_ms", median(fast),
                "runs_plain_ms", plain.stream().map(Measure::round1).toList(), "runs_archive_ms", fast.stream().map(Measure::round1).toList());
    }

    static double untilFirst200(int port, long start) throws Exception {
        long deadline = start + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                if (getPid(port) > 0) {
                    return (System.nanoTime() - start) / 1e6;
                }
            } catch (IOException e) {
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("no 200 on port " + port + " within 60 s");
    }
}
