import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * prefork's benchmark suite; scripts/bench runs it (java scripts/Bench.java). JDK only, loopback only,
 * every run bounded. Each figure is a median of several runs, and each comparison is a ratio taken
 * side by side in the same round, because a shared 2-core machine is noisy.
 *
 * Scenarios: 1 data-path overhead (prefork 1 and 2 workers, and 2 with --balance reuseport, against
 * the same Jetty app as one plain JVM), 2 balance (shared and reuseport), 3 replacement latency after
 * kill -9, 4 rolling restart under load, 5 footprint and cold start.
 * Output: a Markdown table on stdout, and under bench/results/<time>/: results.json, results.md and
 * the gnuplot charts.
 */
public final class Bench {
    static final Path ROOT = Path.of(System.getProperty("bench.root", ".")).toAbsolutePath().normalize();
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final List<Process> STARTED = new ArrayList<>();
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    static final int SECONDS = Integer.getInteger("bench.seconds", 5);
    static final String CPU = "/cpu?n=1000";
    static Path out;
    static Path lua;

    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(Bench::killAll));
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        out = Files.createDirectories(ROOT.resolve("bench/results/" + stamp));
        lua = writeLua();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", machine());
        long began = System.nanoTime();
        try {
            if ("spring-boot".equals(System.getProperty("bench.only"))) {
                json.put("spring_boot_start", springBootStart());
                return;
            }
            if ("share".equals(System.getProperty("bench.only"))) {
                json.put("share", share());
                return;
            }
            if ("roll".equals(System.getProperty("bench.only"))) {
                for (List<String> setup : List.of(List.of("-w", "2"), List.of("-w", "2", "--warmup-requests", "500"),
                        List.of("-w", "2", "--spares", "2", "--warmup-requests", "500"))) {
                    Server s = Server.prefork("roll" + setup.size(), setup.toArray(String[]::new));
                    wrk(s.port, "/", 8, false);
                    Map<String, Object> r = new LinkedHashMap<>(rollingRestart(s));
                    r.put("args", String.join(" ", setup));
                    json.put("rolling_restart " + String.join(" ", setup), r);
                    s.stop();
                }
                return;
            }
            if ("first-traffic".equals(System.getProperty("bench.only"))) {
                json.put("first_traffic", firstTraffic("spare"));
                json.put("first_traffic_warm", firstTraffic("warm spare", "--warmup-requests", "500"));
                return;
            }
            if ("first-answer".equals(System.getProperty("bench.only"))) {
                json.put("first_answer", firstAnswer("spare"));
                json.put("first_answer_warm", firstAnswer("warm spare", "--warmup-requests", "500"));
                return;
            }
            Server plain = Server.plain();
            Server one = Server.prefork("w1", "-w", "1");
            Server two = Server.prefork("w2", "-w", "2");
            Server reuse = Server.prefork("w2r", "-w", "2", "--balance", "reuseport");
            json.put("data_path", dataPath(List.of(plain, one, two, reuse)));
            json.put("balance", Map.of("shared", balance(two), "reuseport", balance(reuse)));
            plain.stop();
            one.stop();
            reuse.stop();
            Server plainStart = Server.prefork("w2p", "-w", "2", "--worker-start", "plain");
            json.put("replacement_plain", replacement(plainStart, 0, "--worker-start plain"));
            plainStart.stop();
            two.awaitMatch(ARCHIVE_READY, 0);
            json.put("replacement", replacement(two, 0, "--worker-start fast (class archive)"));
            Server spared = Server.prefork("w2s", "-w", "2", "--spares", "1");
            json.put("replacement_with_spare", replacement(spared, 1, "--spares 1"));
            spared.stop();
            json.put("first_answer", firstAnswer("spare"));
            json.put("first_answer_warm", firstAnswer("warm spare", "--warmup-requests", "500"));
            json.put("first_traffic", firstTraffic("spare"));
            json.put("first_traffic_warm", firstTraffic("warm spare", "--warmup-requests", "500"));
            json.put("rolling_restart", rollingRestart(two));
            json.put("footprint", footprint(two));
            two.stop();
            json.put("cold_start", coldStart());
            json.put("share", share());
            json.put("spring_boot_start", springBootStart());
        } finally {
            killAll();
            report(json, began);
        }
    }

    static void report(Map<String, Object> json, long began) throws Exception {
        json.put("elapsed_s", (System.nanoTime() - began) / 1_000_000_000L);
        Files.writeString(out.resolve("results.json"), Json.write(json) + "\n");
        String md = Report.markdown(json);
        Files.writeString(out.resolve("results.md"), md);
        System.out.println(md);
        if (json.containsKey("data_path")) {
            Report.charts(json, out);
        }
        System.out.println("raw figures and charts: " + ROOT.relativize(out));
    }

    // ---- 1. data path ----

    /** The first server is the plain JVM; every other one is compared with it, round by round. */
    static Map<String, Object> dataPath(List<Server> servers) throws Exception {
        for (Server s : servers) {
            // Warm-up long enough for C2 in every JVM: 2 s split over two workers left them half
            // compiled and halved their throughput (measured).
            wrk(s.port, "/", 8, false);
            wrk(s.port, CPU, 8, false);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        for (String path : List.of("/", CPU)) {
            Map<String, List<Wrk>> runs = new LinkedHashMap<>();
            Map<String, List<Double>> ratios = new LinkedHashMap<>();
            for (int round = 0; round < ROUNDS; round++) {
                Map<String, Wrk> thisRound = new LinkedHashMap<>();
                for (Server s : servers) {
                    Wrk w = wrk(s.port, path, SECONDS, false);
                    thisRound.put(s.name, w);
                    runs.computeIfAbsent(s.name, k -> new ArrayList<>()).add(w);
                }
                for (Server s : servers.subList(1, servers.size())) {
                    ratios.computeIfAbsent(s.name + "/plain", k -> new ArrayList<>())
                            .add(thisRound.get(s.name).rps / thisRound.get("plain").rps);
                }
            }
            Map<String, Object> byServer = new LinkedHashMap<>();
            runs.forEach((name, list) -> byServer.put(name, Map.of(
                    "rps", median(list.stream().map(w -> w.rps).toList()),
                    "p50_ms", median(list.stream().map(w -> w.p50ms).toList()),
                    "p99_ms", median(list.stream().map(w -> w.p99ms).toList()),
                    "errors", list.stream().mapToLong(w -> w.errors).sum(),
                    "runs_rps", list.stream().map(w -> round1(w.rps)).toList())));
            ratios.forEach((name, list) -> byServer.put("ratio " + name, Map.of("median", median(list),
                    "runs", list.stream().map(Bench::round3).toList())));
            result.put(path, byServer);
        }
        return result;
    }

    // ---- 2. balance ----

    static Map<String, Object> balance(Server two) throws Exception {
        List<Double> largest = new ArrayList<>();
        List<Double> cv = new ArrayList<>();
        List<Object> splits = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Wrk w = wrk(two.port, "/", SECONDS, true);
            List<Long> counts = new ArrayList<>(w.perPid.values());
            long total = counts.stream().mapToLong(Long::longValue).sum();
            double mean = total / (double) counts.size();
            double var = counts.stream().mapToDouble(c -> (c - mean) * (c - mean)).sum() / counts.size();
            largest.add(counts.stream().mapToLong(Long::longValue).max().orElse(0) / (double) total);
            cv.add(Math.sqrt(var) / mean);
            splits.add(counts);
        }
        return Map.of("largest_share", median(largest), "cv", median(cv), "splits", splits);
    }

    // ---- 3. replacement latency ----

    /**
     * kill -9 of a worker, 10 times, alternating the two slots. Each slot is hit 5 times in a few
     * seconds, so its crash backoff doubles (100, 200, 400... ms, reset after 30 s of service): that
     * is crash-loop protection, not start-up cost, so it is reported apart. What the start-up costs
     * is spawn to READY, from the supervisor's own "ready in N ms".
     */
    static final Pattern ARCHIVE_READY = Pattern.compile("class archive .*(ready|valid)");

    static Map<String, Object> replacement(Server two, int spares, String mode) throws Exception {
        List<Double> toReady = new ArrayList<>();
        List<Double> toServed = new ArrayList<>();
        List<Double> backoff = new ArrayList<>();
        List<Double> boot = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Map<Integer, Long> ready = two.awaitReady(2);
            if (spares > 0) {
                two.awaitMatch(PARKED, i); // a spare is booted and waiting: this kill is a promotion
            }
            int id = 1 + (i % 2);
            long victim = ready.get(id);
            int readyBefore = two.count(READY);
            int restartsBefore = two.count(RESTART);
            Instant killedAt = Instant.now();
            long killedNanos = System.nanoTime();
            kill(victim, 9);
            Matcher m = two.awaitMatch(READY, readyBefore);
            long replacement = Long.parseLong(m.group(3));
            toReady.add(Duration.between(killedAt, Instant.parse(m.group(1))).toNanos() / 1e6);
            boot.add(Double.parseDouble(m.group(4)));
            backoff.add(Double.parseDouble(two.awaitMatch(RESTART, restartsBefore).group(1)));
            long servedNanos = awaitServedBy(two.port, replacement);
            toServed.add((servedNanos - killedNanos) / 1e6);
            two.awaitReady(2);
            Thread.sleep(300);
        }
        List<Double> net = new ArrayList<>();
        for (int i = 0; i < toReady.size(); i++) {
            net.add(toReady.get(i) - backoff.get(i));
        }
        return Map.of("mode", mode, "spawn_to_ready_ms", median(boot),
                "kill_to_ready_minus_backoff_ms", median(net), "first_kill_to_ready_ms", round1(toReady.get(0)),
                "first_kill_to_served_ms", round1(toServed.get(0)),
                "runs_ready_ms", toReady.stream().map(Bench::round1).toList(),
                "runs_served_ms", toServed.stream().map(Bench::round1).toList(),
                "runs_backoff_ms", backoff.stream().map(Bench::round1).toList(),
                "runs_spawn_to_ready_ms", boot.stream().map(Bench::round1).toList());
    }

    static final Pattern PARKED = Pattern.compile("INFO spare \\(pid \\d+\\): parked,");

    /**
     * The first seconds of traffic on a new worker: {@code -w 1 --spares 1}, the p99 of 5 s of wrk on
     * the worker after 10 s of load (steady), then kill -9 and the p99 of the first 5 s on the
     * promoted spare, from its READY. 3 rounds; the ratio first / steady per round.
     */
    static Map<String, Object> firstTraffic(String mode, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-w", "1", "--spares", "1"));
        args.addAll(List.of(extra));
        Server s = Server.prefork("p99-" + mode.replace(' ', '-'), args.toArray(String[]::new));
        List<Double> steady = new ArrayList<>();
        List<Double> first = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            s.awaitMatch(PARKED, round);
            long victim = s.awaitReady(1).values().iterator().next();
            wrk(s.port, "/", 10, false);
            Wrk before = wrk(s.port, "/", SECONDS, false);
            int readyBefore = s.count(READY);
            kill(victim, 9);
            s.awaitMatch(READY, readyBefore);
            Wrk after = wrk(s.port, "/", SECONDS, false);
            steady.add(before.p99ms);
            first.add(after.p99ms);
            ratios.add(round3(after.p99ms / before.p99ms));
        }
        s.stop();
        return Map.of("mode", mode, "steady_p99_ms", steady, "first_5s_p99_ms", first, "ratio_median", median(ratios),
                "ratios", ratios);
    }

    /**
     * What a user feels when the one worker dies: {@code -w 1 --spares 1}, kill -9 of the worker, and
     * a client that asks until it gets its 200 (it connects at once: the listening socket stays, and
     * the connection waits in its queue for the promoted spare). 10 kills, each after the worker has
     * served 5 s (so no crash backoff: an isolated crash) and a new spare has parked.
     */
    static Map<String, Object> firstAnswer(String mode, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-w", "1", "--spares", "1"));
        args.addAll(List.of(extra));
        Server s = Server.prefork("first-" + mode, args.toArray(String[]::new));
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            s.awaitMatch(PARKED, i);
            long victim = s.awaitReady(1).values().iterator().next();
            Thread.sleep(5500);
            long t0 = System.nanoTime();
            kill(victim, 9);
            long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    if (getPid(s.port) > 0) {
                        break;
                    }
                } catch (IOException e) {
                    // the socket stays open: a reset would be a finding; ask again
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(mode + ": no answer 30 s after the kill");
                }
            }
            ms.add(round1((System.nanoTime() - t0) / 1e6));
        }
        s.stop();
        return Map.of("mode", mode, "median_ms", round1(median(ms)), "runs_ms", ms);
    }
    static final Pattern RESTART = Pattern.compile("worker \\d+: restarting in (\\d+) ms");
    static final Pattern READY = Pattern.compile(
            "(\\S+) prefork\\[\\d+\\] INFO worker (\\d+) \\(pid (\\d+)\\): BOOTING -> READY \\(ready in (\\d+) ms\\)");

    static long awaitServedBy(int port, long pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            long p = getPid(port);
            if (p == pid) {
                return System.nanoTime();
            }
        }
        throw new IllegalStateException("replacement " + pid + " never served");
    }

    // ---- 4. rolling restart under load ----

    static Map<String, Object> rollingRestart(Server two) throws Exception {
        List<Double> ratios = new ArrayList<>();
        List<Long> failed = new ArrayList<>();
        List<Double> steady = new ArrayList<>();
        int seconds = 2 * SECONDS + 2;
        for (int round = 0; round < ROUNDS; round++) {
            two.awaitReady(2);
            Wrk base = wrk(two.port, "/", seconds, false);
            int rollsBefore = two.count(ROLL_DONE);
            Thread hup = new Thread(() -> {
                sleep(2000);
                kill(two.process.pid(), 1);
            });
            hup.start();
            Wrk during = wrk(two.port, "/", seconds, false);
            hup.join();
            two.awaitMatch(ROLL_DONE, rollsBefore);
            if (two.count(ROLL_DONE) <= rollsBefore) {
                throw new IllegalStateException("the roll did not finish");
            }
            ratios.add(during.rps / base.rps);
            failed.add(during.errors);
            steady.add(base.rps);
        }
        return Map.of("window_s", seconds, "failed_requests", failed, "throughput_ratio", median(ratios),
                "ratios", ratios.stream().map(Bench::round3).toList(), "steady_rps", median(steady));
    }

    static final Pattern ROLL_DONE = Pattern.compile("rolling restart done");

    // ---- 5. footprint ----

    static Map<String, Object> footprint(Server two) throws Exception {
        two.awaitReady(2);
        Thread.sleep(5000); // let the compiler finish what the earlier scenarios started
        long pid = two.process.pid();
        long t0 = cpuTicks(pid);
        Thread.sleep(20_000);
        double idleCpu = (cpuTicks(pid) - t0) * 10 / 20_000.0 * 100; // 10 ms ticks over 20 s, in % of one core
        long t1 = cpuTicks(pid);
        long churnStart = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            Map<Integer, Long> ready = two.awaitReady(2);
            kill(ready.get(1 + i % 2), 9);
            Thread.sleep(500);
        }
        two.awaitReady(2);
        double churnSeconds = (System.nanoTime() - churnStart) / 1e9;
        double churnCpu = (cpuTicks(pid) - t1) / 100.0 / churnSeconds * 100;
        Map<Integer, Long> now = two.awaitReady(2);
        long worker = now.values().iterator().next();
        Thread.sleep(1000);
        return Map.of("supervisor_rss_mib", kib(pid, "VmRSS") / 1024.0, "supervisor_pss_mib", pss(pid) / 1024.0,
                "supervisor_idle_cpu_pct", round3(idleCpu),
                "supervisor_cpu_during_churn_pct", round1(churnCpu), "churn", "5 kill -9 of a worker in " + round1(churnSeconds) + " s",
                "worker_rss_mib", kib(worker, "VmRSS") / 1024.0, "worker_pss_mib", pss(worker) / 1024.0);
    }

    // ---- JVMs that share the machine (--jvm-share) ----

    /**
     * Two workers against one, and against the app as one plain JVM, with each worker JVM sized for
     * the whole machine (--jvm-share off, the JVM's defaults) or for its share (auto): throughput and
     * CPU per request after a warm-up, for the hello app and for an app that knows nothing of prefork.
     * Then the memory of 4 idle workers of the hello app, both ways.
     */
    static Map<String, Object> share() throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        for (String app : List.of("io.prefork.examples.HelloApp", "io.prefork.examples.UnawareJettyApp")) {
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
                    rps.computeIfAbsent(s.name, k -> new ArrayList<>()).add(w.rps);
                    // 10 ms ticks; CPU ms per 1,000 requests
                    cpu.computeIfAbsent(s.name, k -> new ArrayList<>()).add((t1 - t0) * 10.0 / (w.rps * SECONDS / 1000.0));
                }
            }
            Map<String, Object> byServer = new LinkedHashMap<>();
            rps.forEach((name, list) -> byServer.put(name.replace(shortName + "-", ""), Map.of(
                    "rps", round1(median(list)), "cpu_ms_per_1k", round1(median(cpu.get(name))),
                    "runs_rps", list.stream().map(Bench::round1).toList())));
            for (String mode : List.of("off", "auto")) {
                List<Double> two = new ArrayList<>();
                List<Double> cpuRatio = new ArrayList<>();
                for (int r = 0; r < ROUNDS; r++) {
                    two.add(rps.get(shortName + "-" + mode + "-w2").get(r) / rps.get(shortName + "-" + mode + "-w1").get(r));
                    cpuRatio.add(cpu.get(shortName + "-" + mode + "-w2").get(r) / cpu.get("plain").get(r));
                }
                byServer.put("ratio " + mode + " 2 workers / 1", Map.of("median", round3(median(two)),
                        "runs", two.stream().map(Bench::round3).toList()));
                byServer.put("cpu per request " + mode + " 2 workers / plain", Map.of("median", round3(median(cpuRatio)),
                        "runs", cpuRatio.stream().map(Bench::round3).toList()));
            }
            for (Server s : servers) {
                s.stop();
            }
            result.put(shortName, byServer);
        }
        Map<String, Object> memory = new LinkedHashMap<>();
        for (String mode : List.of("off", "auto")) {
            List<Double> totals = new ArrayList<>();
            for (int round = 0; round < 2; round++) {  // the first trains the class archive for this command
                Server four = Server.prefork("pss-" + mode + "-" + round, "-w", "4", "--jvm-share", mode);
                for (int i = 0; i < 400; i++) {
                    untilFirst200(four.port, System.nanoTime());
                }
                Thread.sleep(5000);
                double total = 0;
                for (long pid : four.awaitReady(4).values()) {
                    total += pss(pid) / 1024.0;
                }
                totals.add(round1(total));
                four.stop();
            }
            memory.put(mode, Map.of("total_pss_mib", totals.get(1), "first_run_untrained_mib", totals.get(0)));
        }
        result.put("idle_4_workers", memory);
        return result;
    }

    static Map<String, Object> coldStart() throws Exception {
        List<Double> prefork = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            int port = freePort();
            long start = System.nanoTime();
            Process p = start("cold-plain", List.of(JAVA, "-cp", plainClasspath(), "io.prefork.examples.HelloApp", "127.0.0.1",
                    Integer.toString(port)));
            plain.add(untilFirst200(port, start));
            stop(p);
            port = freePort();
            start = System.nanoTime();
            p = start("cold-prefork", List.of(ROOT.resolve("scripts/prefork").toString(), "-w", "2", "-b", "127.0.0.1:" + port,
                    "--ctl-socket", out.resolve("cold.ctl").toString(), "--cache-dir", out.resolve("cache").toString()));
            prefork.add(untilFirst200(port, start));
            stop(p);
        }
        return Map.of("prefork_w2_ms", median(prefork), "plain_ms", median(plain),
                "runs_prefork_ms", prefork.stream().map(Bench::round1).toList(), "runs_plain_ms", plain.stream().map(Bench::round1).toList());
    }

    /**
     * The Spring Boot example (an executable jar with the starter), -w 2, from the supervisor's start
     * to its first 200: workers started plain, and from the class archive (trained by an untimed start
     * first), round by round.
     */
    static Map<String, Object> springBootStart() throws Exception {
        String jar = ROOT.resolve("spring-boot-example/target/prefork-example-spring-boot.jar").toString();
        String cache = out.resolve("spring-cache").toString();
        List<String> base = List.of(ROOT.resolve("scripts/prefork").toString(), "-w", "2", "--app-jar", jar,
                "--ctl-socket", out.resolve("spring.ctl").toString(), "--cache-dir", cache);
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
                "runs_plain_ms", plain.stream().map(Bench::round1).toList(), "runs_archive_ms", fast.stream().map(Bench::round1).toList());
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

    // ---- servers ----

    static final class Server {
        final String name;
        final Process process;
        final Path log;
        final int port;

        Server(String name, Process process, Path log, int port) {
            this.name = name;
            this.process = process;
            this.log = log;
            this.port = port;
        }

        static Server plain() throws Exception {
            return plain("io.prefork.examples.HelloApp");
        }

        static Server plain(String app) throws Exception {
            int port = freePort();
            Process p = start("plain", List.of(JAVA, "-cp", plainClasspath(), app, "127.0.0.1", Integer.toString(port)));
            untilFirst200(port, System.nanoTime());
            return new Server("plain", p, out.resolve("plain.log"), port);
        }

        static Server prefork(String name, String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("scripts/prefork").toString(), "-b", "127.0.0.1:0",
                    "--ctl-socket", out.resolve(name + ".ctl").toString(), "--cache-dir", out.resolve("cache").toString()));
            cmd.addAll(List.of(args));
            Process p = start(name, cmd);
            Server s = new Server(name, p, out.resolve(name + ".log"), 0);
            Matcher m = s.awaitMatch(Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)"), 0);
            Server ready = new Server(name, p, s.log, Integer.parseInt(m.group(1)));
            ready.awaitReady(Integer.parseInt(args[1]));
            return ready;
        }

        String text() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "";
            }
        }

        int count(Pattern p) {
            Matcher m = p.matcher(text());
            int n = 0;
            while (m.find()) {
                n++;
            }
            return n;
        }

        Matcher awaitMatch(Pattern p, int skip) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                Matcher m = p.matcher(text());
                int seen = 0;
                while (m.find()) {
                    if (seen++ >= skip) {
                        return m;
                    }
                }
                Thread.sleep(5);
            }
            throw new IllegalStateException(name + ": no /" + p + "/ #" + (skip + 1) + " in " + log);
        }

        Map<Integer, Long> awaitReady(int n) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                Map<Integer, Long> ready = new LinkedHashMap<>();
                Matcher r = READY.matcher(text());
                while (r.find()) {
                    ready.put(Integer.parseInt(r.group(2)), Long.parseLong(r.group(3)));
                }
                Matcher e = Pattern.compile("worker (\\d+) \\(pid (\\d+)\\): \\w+ -> (EXITED|DRAINING)").matcher(text());
                while (e.find()) {
                    ready.remove(Integer.parseInt(e.group(1)), Long.parseLong(e.group(2)));
                }
                if (ready.size() >= n) {
                    return ready;
                }
                Thread.sleep(10);
            }
            throw new IllegalStateException(name + ": " + n + " workers not READY; see " + log);
        }

        void stop() throws Exception {
            Bench.stop(process);
        }
    }

    static String plainClasspath() {
        return ROOT.resolve("examples/target/prefork-examples.jar") + ":" + ROOT.resolve("worker/target/prefork-worker.jar");
    }

    static Process start(String name, List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(out.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve(name + ".log").toFile())).start();
        STARTED.add(p);
        return p;
    }

    /** TERM, then wait: a prefork supervisor drains and takes its workers with it. */
    static void stop(Process p) throws Exception {
        p.toHandle().destroy();
        if (!p.waitFor(40, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static void killAll() {
        for (Process p : STARTED) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static void kill(long pid, int signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- wrk ----

    /** One wrk run: requests/s, latency percentiles in ms, failures (socket errors + non-2xx), per-pid counts. */
    record Wrk(double rps, double p50ms, double p99ms, long errors, Map<String, Long> perPid) {
    }

    static Wrk wrk(int port, String path, int seconds, boolean countPids) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c32", "-d" + seconds + "s", "--timeout", "5s", "-s",
                lua.resolve(countPids ? "balance.lua" : "stats.lua").toString(), "http://127.0.0.1:" + port + path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed: " + text);
        }
        Matcher s = Pattern.compile("STATS requests=(\\d+) duration_us=(\\d+) p50_us=(\\d+) p99_us=(\\d+) "
                + "connect=(\\d+) read=(\\d+) write=(\\d+) status=(\\d+) timeout=(\\d+)").matcher(text);
        if (!s.find()) {
            throw new IllegalStateException("no STATS line from wrk: " + text);
        }
        long[] f = new long[9];
        for (int i = 0; i < 9; i++) {
            f[i] = Long.parseLong(s.group(i + 1));
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        Matcher m = Pattern.compile("PID (\\d+) (\\d+)").matcher(text);
        while (m.find()) {
            pids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return new Wrk(f[0] / (f[1] / 1e6), f[2] / 1000.0, f[3] / 1000.0, f[4] + f[5] + f[6] + f[7] + f[8], pids);
    }

    static Path writeLua() throws IOException {
        Path dir = Files.createDirectories(out.resolve("lua"));
        String done = """
                function done(summary, latency, requests)
                  io.write(string.format("STATS requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
                    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
                    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
                  if threads then
                    local total = {}
                    for _, t in ipairs(threads) do
                      for pid, n in pairs(t:get("counts")) do total[pid] = (total[pid] or 0) + n end
                    end
                    for pid, n in pairs(total) do io.write(string.format("PID %s %d\\n", pid, n)) end
                  end
                end
                """;
        Files.writeString(dir.resolve("stats.lua"), done);
        Files.writeString(dir.resolve("balance.lua"), """
                threads = {}
                function setup(thread) table.insert(threads, thread) end
                function init(args) counts = {} end
                function response(status, headers, body)
                  local pid = headers["X-Worker-Pid"]
                  if pid then counts[pid] = (counts[pid] or 0) + 1 end
                end
                """ + done);
        return dir;
    }

    // ---- small helpers ----

    static long getPid(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            OutputStream o = s.getOutputStream();
            o.write("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String r = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            Matcher m = Pattern.compile("(?i)x-worker-pid: (\\d+)").matcher(r);
            return r.startsWith("HTTP/1.1 200") && m.find() ? Long.parseLong(m.group(1)) : -1;
        }
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long kib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long pss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static Map<String, Object> machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 2)).orElse("?");
        String load = Files.readString(Path.of("/proc/loadavg")).trim();
        return Map.of("cpus", Runtime.getRuntime().availableProcessors(), "cpu", cpu, "jdk", System.getProperty("java.vm.name")
                + " " + System.getProperty("java.version"), "kernel", System.getProperty("os.version"),
                "loadavg_at_start", load, "wrk", "-t2 -c32 -d" + SECONDS + "s, keep-alive", "rounds", ROUNDS);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double m = a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        return round3(m);
    }

    static double round1(double x) {
        return Math.round(x * 10) / 10.0;
    }

    static double round3(double x) {
        return Math.round(x * 1000) / 1000.0;
    }

    /** Just enough JSON for maps, lists, strings and numbers. */
    static final class Json {
        static String write(Object o) {
            if (o instanceof Map<?, ?> m) {
                StringBuilder b = new StringBuilder("{");
                m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(write(k.toString())).append(':').append(write(v)));
                return b.append('}').toString();
            }
            if (o instanceof List<?> l) {
                StringBuilder b = new StringBuilder("[");
                l.forEach(v -> b.append(b.length() > 1 ? "," : "").append(write(v)));
                return b.append(']').toString();
            }
            if (o instanceof Number || o instanceof Boolean) {
                return o.toString();
            }
            return "\"" + o.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }

    /** The Markdown table and the gnuplot charts. */
    static final class Report {
        @SuppressWarnings("unchecked")
        static Map<String, Object> map(Object o) {
            return (Map<String, Object>) o;
        }

        static String markdown(Map<String, Object> j) {
            StringBuilder b = new StringBuilder("| scenario | figure | value |\n|---|---|---|\n");
            if (!j.containsKey("data_path")) {
                return b + springBoot(j) + share(j) + firstAnswer(j) + rolls(j) + firstTraffic(j);
            }
            Map<String, Object> dp = map(j.get("data_path"));
            for (String path : List.of("/", CPU)) {
                Map<String, Object> d = map(dp.get(path));
                for (String s : List.of("plain", "w1", "w2", "w2r")) {
                    Map<String, Object> r = map(d.get(s));
                    b.append(String.format(Locale.ROOT, "| data path `%s` | %s: req/s, p50, p99 | %.0f, %.2f ms, %.2f ms |%n",
                            path, s, r.get("rps"), r.get("p50_ms"), r.get("p99_ms")));
                }
                for (String s : List.of("w1", "w2", "w2r")) {
                    b.append(String.format(Locale.ROOT, "| data path `%s` | ratio %s / plain (median of %d rounds) | %s |%n",
                            path, s, ROUNDS, map(d.get("ratio " + s + "/plain")).get("median")));
                }
            }
            for (String mode : List.of("shared", "reuseport")) {
                Map<String, Object> bal = map(map(j.get("balance")).get(mode));
                b.append("| balance, 2 workers, ").append(mode).append(" | largest share; CV (medians); splits | ")
                        .append(bal.get("largest_share")).append("; ").append(bal.get("cv")).append("; ")
                        .append(bal.get("splits")).append(" |\n");
            }
            for (String key : List.of("replacement_plain", "replacement", "replacement_with_spare")) {
                Map<String, Object> rep = map(j.get(key));
                b.append("| replacement after kill -9, ").append(rep.get("mode")).append(" | median of 10: spawn (or promotion)"
                        + " to READY; kill to READY less the backoff | ").append(rep.get("spawn_to_ready_ms")).append(" ms; ")
                        .append(rep.get("kill_to_ready_minus_backoff_ms")).append(" ms |\n");
                b.append("| replacement, first kill (no backoff), ").append(rep.get("mode"))
                        .append(" | kill to READY; kill to first request served | ").append(rep.get("first_kill_to_ready_ms"))
                        .append(" ms; ").append(rep.get("first_kill_to_served_ms")).append(" ms |\n");
            }
            Map<String, Object> roll = map(j.get("rolling_restart"));
            b.append("| rolling restart under wrk | failed requests per run; throughput during / steady | ")
                    .append(roll.get("failed_requests")).append("; ").append(roll.get("throughput_ratio")).append(" |\n");
            Map<String, Object> f = map(j.get("footprint"));
            b.append(String.format(Locale.ROOT, "| supervisor | RSS; PSS; idle CPU; CPU during churn | %.1f MiB; %.1f MiB; %s%%; %s%% |%n",
                    f.get("supervisor_rss_mib"), f.get("supervisor_pss_mib"), f.get("supervisor_idle_cpu_pct"),
                    f.get("supervisor_cpu_during_churn_pct")));
            b.append(String.format(Locale.ROOT, "| worker (hello, idle) | RSS; PSS | %.1f MiB; %.1f MiB |%n",
                    f.get("worker_rss_mib"), f.get("worker_pss_mib")));
            Map<String, Object> c = map(j.get("cold_start"));
            b.append("| cold start to first 200 | prefork -w 2; plain JVM | ").append(c.get("prefork_w2_ms")).append(" ms; ")
                    .append(c.get("plain_ms")).append(" ms |\n");
            return b.toString() + springBoot(j) + share(j) + firstAnswer(j) + firstTraffic(j);
        }

        static String firstTraffic(Map<String, Object> j) {
            StringBuilder b = new StringBuilder();
            for (String key : List.of("first_traffic", "first_traffic_warm")) {
                Map<String, Object> f = map(j.get(key));
                if (f != null) {
                    b.append("| -w 1, kill -9, ").append(f.get("mode")).append(" | p99 first 5 s / steady, median; steady p99;"
                            + " first-5 s p99 (ms) | ").append(f.get("ratio_median")).append("; ").append(f.get("steady_p99_ms"))
                            .append("; ").append(f.get("first_5s_p99_ms")).append(" |\n");
                }
            }
            return b.toString();
        }

        static String rolls(Map<String, Object> j) {
            StringBuilder b = new StringBuilder();
            j.forEach((key, value) -> {
                if (key.startsWith("rolling_restart ")) {
                    Map<String, Object> r = map(value);
                    b.append("| HUP roll, ").append(r.get("args")).append(" | throughput during / steady, median; runs; failed | ")
                            .append(round3((Double) r.get("throughput_ratio"))).append("; ").append(r.get("ratios"))
                            .append("; ").append(r.get("failed_requests")).append(" |\n");
                }
            });
            return b.toString();
        }

        static String firstAnswer(Map<String, Object> j) {
            StringBuilder b = new StringBuilder();
            for (String key : List.of("first_answer", "first_answer_warm")) {
                Map<String, Object> f = map(j.get(key));
                if (f != null) {
                    b.append("| -w 1, kill -9, ").append(f.get("mode")).append(" | kill to first 200, median of 10; runs | ")
                            .append(f.get("median_ms")).append(" ms; ").append(f.get("runs_ms")).append(" |\n");
                }
            }
            return b.toString();
        }

        static String share(Map<String, Object> j) {
            Map<String, Object> sh = map(j.get("share"));
            if (sh == null) {
                return "";
            }
            StringBuilder b = new StringBuilder();
            for (String app : List.of("HelloApp", "UnawareJettyApp")) {
                Map<String, Object> a = map(sh.get(app));
                for (String s : List.of("plain", "off-w1", "off-w2", "auto-w1", "auto-w2")) {
                    Map<String, Object> r = map(a.get(s));
                    b.append("| ").append(app).append(", ").append(s).append(" | req/s; CPU ms per 1,000 requests | ")
                            .append(r.get("rps")).append("; ").append(r.get("cpu_ms_per_1k")).append(" |\n");
                }
                for (String mode : List.of("off", "auto")) {
                    b.append("| ").append(app).append(", --jvm-share ").append(mode)
                            .append(" | 2 workers / 1, req/s; CPU per request, 2 workers / plain (medians) | ")
                            .append(map(a.get("ratio " + mode + " 2 workers / 1")).get("median")).append("; ")
                            .append(map(a.get("cpu per request " + mode + " 2 workers / plain")).get("median")).append(" |\n");
                }
            }
            Map<String, Object> mem = map(sh.get("idle_4_workers"));
            b.append("| 4 idle hello workers, total PSS | --jvm-share off; auto | ")
                    .append(map(mem.get("off")).get("total_pss_mib")).append(" MiB; ")
                    .append(map(mem.get("auto")).get("total_pss_mib")).append(" MiB |\n");
            return b.toString();
        }

        static String springBoot(Map<String, Object> j) {
            Map<String, Object> s = map(j.get("spring_boot_start"));
            return s == null ? "" : "| Spring Boot example, start to first 200 | -w 2, plain; with the class archive | "
                    + s.get("plain_ms") + " ms; " + s.get("archive_ms") + " ms |\n";
        }

        static void charts(Map<String, Object> j, Path dir) throws Exception {
            Map<String, Object> dp = map(j.get("data_path"));
            StringBuilder tp = new StringBuilder();
            for (String path : List.of("/", CPU)) {
                Map<String, Object> d = map(dp.get(path));
                tp.append('"').append(path).append('"');
                for (String s : List.of("plain", "w1", "w2", "w2r")) {
                    tp.append(' ').append(map(d.get(s)).get("rps"));
                }
                tp.append('\n');
            }
            Files.writeString(dir.resolve("throughput.dat"), tp);
            Map<String, Object> rep = map(j.get("replacement_plain"));
            Map<String, Object> fast = map(j.get("replacement"));
            Map<String, Object> spare = map(j.get("replacement_with_spare"));
            List<?> fastReady = (List<?>) fast.get("runs_ready_ms");
            List<?> spareReady = (List<?>) spare.get("runs_ready_ms");
            List<?> ready = (List<?>) rep.get("runs_ready_ms");
            List<?> served = (List<?>) rep.get("runs_served_ms");
            List<?> backoff = (List<?>) rep.get("runs_backoff_ms");
            StringBuilder rp = new StringBuilder();
            for (int i = 0; i < ready.size(); i++) {
                rp.append(i + 1).append(' ').append(ready.get(i)).append(' ').append(served.get(i))
                        .append(' ').append(backoff.get(i)).append(' ').append(spareReady.get(i))
                        .append(' ').append(fastReady.get(i)).append('\n');
            }
            Files.writeString(dir.resolve("replacement.dat"), rp);
            String gp = """
                    set terminal pngcairo size 900,420 font ",10"
                    set output 'throughput.png'
                    set title "Requests/s, wrk -t2 -c32 (median of rounds): the same Jetty app as one JVM and under prefork"
                    set style data histograms
                    set style histogram clustered gap 1
                    set style fill solid 0.8 border -1
                    set ylabel "requests/s"
                    set yrange [0:*]
                    set key top right
                    plot 'throughput.dat' using 2:xtic(1) title "plain JVM", '' using 3 title "prefork, 1 worker", '' using 4 title "prefork, 2 workers", '' using 5 title "prefork, 2 workers, reuseport"
                    set output 'replacement.png'
                    set title "After kill -9 (slots alternate, so each slot's crash backoff doubles): ms until READY, until served"
                    set style data linespoints
                    set xlabel "run"
                    set ylabel "ms after the kill"
                    set xrange [0.5:10.5]
                    set key top left
                    plot 'replacement.dat' using 1:2 title "READY, plain start", '' using 1:6 title "READY, fast start (class archive)", '' using 1:5 title "READY, --spares 1", '' using 1:4 title "of which crash backoff"
                    """;
            Files.writeString(dir.resolve("charts.gp"), gp);
            Process p = new ProcessBuilder("gnuplot", "charts.gp").directory(dir.toFile()).inheritIO().start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.err.println("gnuplot failed; the figures are in results.json");
            }
        }
    }

    static {
        Locale.setDefault(Locale.ROOT);
    }

    private Bench() {
    }
}
