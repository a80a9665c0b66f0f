package benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static benchmarks.DataPath.*;
import static benchmarks.Replacement.*;
import static benchmarks.Rolls.*;
import static benchmarks.Starts.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/**
 * prefork's benchmark suite; scripts/bench compiles scripts/benchmarks/ and runs it. JDK only, loopback only,
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
    static final String HELLO_APP = "io.prefork.examples.HelloApp";
    /** The Jetty app that knows nothing of prefork: it takes System.inheritedChannel(). */
    static final String UNAWARE_APP = "io.prefork.examples.UnawareJettyApp";
    /** Netty on the epoll transport, with prefork-netty's helpers (its warm-up hook among them). */
    static final String NETTY_APP = "io.prefork.examples.NettyApp";
    static Path out;
    static Path lua;

    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(Server::killAll));
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        out = Files.createDirectories(ROOT.resolve("bench/results/" + stamp));
        lua = writeLua();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", machine());
        long began = System.nanoTime();
        try {
            run(json);
        } catch (Exception | Error e) {
            // The figures so far are kept; the report of a whole run would trip over the missing ones
            // and hide this failure behind its own.
            killAll();
            json.put("stopped_early", String.valueOf(e));
            save(json, began);
            System.err.println("bench: stopped early; the figures so far are in " + ROOT.relativize(out.resolve("results.json")));
            throw e;
        }
        killAll();
        report(json, began);
    }

    /** Every scenario, or the one bench.only names, each adding its figures to {@code json}. */
    static void run(Map<String, Object> json) throws Exception {
        if ("spring-boot".equals(System.getProperty("bench.only"))) {
            json.put("spring_boot_start", springBootStart());
            return;
        }
        if ("share".equals(System.getProperty("bench.only"))) {
            json.put("share", share());
            return;
        }
        if ("roll".equals(System.getProperty("bench.only"))) {
            for (List<String> setup : List.of(List.of("-w", "2", "--boot-nice", "0"), List.of("-w", "2", "--boot-nice", "10"), List.of("-w", "2"),
                    List.of("-w", "2", "--warmup-requests", "5000"), List.of("-w", "2", "--java", Ramp.JDK25),
                    List.of("-w", "2", "--java", Ramp.JDK25, "--worker-start", "trained"))) {
                Server s = Server.prefork("roll" + json.size(), setup.toArray(String[]::new));
                if (setup.contains("trained")) {
                    Ramp.record(s);
                }
                Map<String, Object> r = new LinkedHashMap<>(rollingRestart(s));
                r.put("args", String.join(" ", setup));
                json.put("rolling_restart " + String.join(" ", setup), r);
                s.stop();
            }
            return;
        }
        if ("ramp".equals(System.getProperty("bench.only"))) {
            json.put("spawn_ramp", Ramp.ramps());
            return;
        }
        if ("first-traffic".equals(System.getProperty("bench.only"))) {
            firstTrafficRows(json, true);
            return;
        }
        if ("cold".equals(System.getProperty("bench.only"))) {
            json.put("cold_start", coldStart());
            return;
        }
        if ("first-answer".equals(System.getProperty("bench.only"))) {
            json.put("first_answer", firstAnswer("spare"));
            json.put("first_answer_warm", firstAnswer("warm spare", "--warmup-requests", "500"));
            json.put("first_answer_warm_nice0", firstAnswer("warm spare, --boot-nice 0", "--warmup-requests", "500",
                    "--boot-nice", "0"));
            json.put("first_answer_unaware", firstAnswer("spare, unaware Jetty app", "--app", UNAWARE_APP));
            json.put("first_answer_unaware_warm", firstAnswer("warm spare, unaware Jetty app", "--app", UNAWARE_APP,
                    "--warmup-requests", "500"));
            json.put("first_answer_netty", firstAnswer("spare, Netty app", "--app", NETTY_APP));
            json.put("first_answer_netty_warm", firstAnswer("warm spare, Netty app", "--app", NETTY_APP,
                    "--warmup-requests", "500"));
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
        json.put("first_answer_unaware_warm", firstAnswer("warm spare, unaware Jetty app", "--app", UNAWARE_APP,
                "--warmup-requests", "500"));
        firstTrafficRows(json, false);
        json.put("spawn_ramp", Ramp.ramps());
        json.put("rolling_restart", rollingRestart(two));
        json.put("footprint", footprint(two));
        two.stop();
        json.put("cold_start", coldStart());
        json.put("share", share());
        json.put("spring_boot_start", springBootStart());
    }

    /**
     * Point 2's rows: a spare with no warm-up; 500 warm-up requests; 500 with {@code --spare-delay 10};
     * 5,000 with {@code --spare-delay 10} (the setup that comes nearest). {@code all} adds 500 at
     * {@code --boot-nice 0} and 5,000 without the delay.
     */
    static void firstTrafficRows(Map<String, Object> json, boolean all) throws Exception {
        json.put("first_traffic", firstTraffic("spare"));
        json.put("first_traffic_warm", firstTraffic("warm spare", "--warmup-requests", "500"));
        if (all) {
            json.put("first_traffic_warm_nice0", firstTraffic("warm spare, --boot-nice 0", "--warmup-requests", "500",
                    "--boot-nice", "0"));
            json.put("first_traffic_warm5000", firstTraffic("warm spare, 5000 requests", "--warmup-requests", "5000"));
        }
        json.put("first_traffic_warm_delay", firstTraffic("warm spare, --spare-delay 10", "--warmup-requests", "500",
                "--spare-delay", "10"));
        json.put("first_traffic_warm5000_delay", firstTraffic("warm spare, 5000 requests, --spare-delay 10",
                "--warmup-requests", "5000", "--spare-delay", "10"));
    }

    /** The raw figures, with the run's length: results.json. */
    static void save(Map<String, Object> json, long began) throws IOException {
        json.put("elapsed_s", (System.nanoTime() - began) / 1_000_000_000L);
        Files.writeString(out.resolve("results.json"), Json.write(json) + "\n");
    }

    static void report(Map<String, Object> json, long began) throws Exception {
        save(json, began);
        String md = Report.markdown(json);
        Files.writeString(out.resolve("results.md"), md);
        System.out.println(md);
        if (json.containsKey("data_path")) {
            Report.charts(json, out);
        }
        System.out.println("raw figures and charts: " + ROOT.relativize(out));
    }

    static Map<String, Object> machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 2)).orElse("?");
        String load = Files.readString(Path.of("/proc/loadavg")).trim();
        return Map.of("cpus", Runtime.getRuntime().availableProcessors(), "cpu", cpu, "jdk", System.getProperty("java.vm.name")
                + " " + System.getProperty("java.version"), "kernel", System.getProperty("os.version"),
                "loadavg_at_start", load, "wrk", "-t2 -c32 -d" + SECONDS + "s, keep-alive", "rounds", ROUNDS);
    }

    static {
        Locale.setDefault(Locale.ROOT);
    }

    private Bench() {
    }
}
