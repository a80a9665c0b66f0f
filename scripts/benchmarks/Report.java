package benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static benchmarks.Measure.*;
import static benchmarks.Bench.*;

/** The Markdown table and the gnuplot charts. */
final class Report {
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static String markdown(Map<String, Object> j) {
        StringBuilder b = new StringBuilder("| scenario | figure | value |\n|---|---|---|\n");
        if (!j.containsKey("data_path")) {
            return b + coldStart(j) + springBoot(j) + share(j) + firstAnswer(j) + rolls(j) + firstTraffic(j) + ramps(j);
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
        b.append("| rolling restart under wrk | failed requests per run; throughput during / steady; first 5 s after / steady | ")
                .append(roll.get("failed_requests")).append("; ").append(roll.get("throughput_ratio")).append("; ")
                .append(roll.get("after_ratio")).append(" |\n");
        Map<String, Object> f = map(j.get("footprint"));
        b.append(String.format(Locale.ROOT, "| supervisor | RSS; PSS; idle CPU; CPU during churn | %.1f MiB; %.1f MiB; %s%%; %s%% |%n",
                f.get("supervisor_rss_mib"), f.get("supervisor_pss_mib"), f.get("supervisor_idle_cpu_pct"),
                f.get("supervisor_cpu_during_churn_pct")));
        b.append(String.format(Locale.ROOT, "| worker (hello, idle) | RSS; PSS | %.1f MiB; %.1f MiB |%n",
                f.get("worker_rss_mib"), f.get("worker_pss_mib")));
        return b.toString() + coldStart(j) + springBoot(j) + share(j) + firstAnswer(j) + firstTraffic(j) + ramps(j);
    }

    static String coldStart(Map<String, Object> j) {
        StringBuilder b = new StringBuilder();
        if (!j.containsKey("cold_start")) {
            return "";
        }
        for (Map.Entry<String, Object> e : map(j.get("cold_start")).entrySet()) {
            Map<String, Object> c = map(e.getValue());
            b.append("| cold start to first 200, ").append(e.getKey()).append(" | plain JVM; prefork -w 1; -w 2 (median of the rounds' differences to plain) | ")
                    .append(c.get("plain_ms")).append(" ms; ").append(c.get("w1_ms")).append(" ms (+").append(c.get("w1_over_plain_ms"))
                    .append("); ").append(c.get("w2_ms")).append(" ms (+").append(c.get("w2_over_plain_ms")).append("); first worker taken beside the supervisor in ")
                    .append(c.get("first_worker_taken_beside")).append(" prefork starts |\n");
        }
        return b.toString();
    }

    static String ramps(Map<String, Object> j) {
        StringBuilder b = new StringBuilder();
        Map<String, Object> all = map(j.get("spawn_ramp"));
        if (all != null) {
            all.forEach((mode, value) -> {
                Map<String, Object> r = map(value);
                b.append("| -w 1, kill -9, ").append(mode).append(" | kill to 90% of steady throughput, median; runs (s) | ")
                        .append(r.get("seconds_to_90pct_median")).append("; ").append(r.get("runs_s")).append(" |\n");
            });
        }
        return b.toString();
    }

    static String firstTraffic(Map<String, Object> j) {
        StringBuilder b = new StringBuilder();
        for (String key : List.of("first_traffic", "first_traffic_warm", "first_traffic_warm_nice0",
                "first_traffic_warm5000", "first_traffic_warm_delay", "first_traffic_warm5000_delay")) {
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
                b.append("| HUP roll, ").append(r.get("args")).append(" | throughput during / steady, median; runs;"
                        + " first 5 s after / steady, median; the roll and the 5 s after / steady, median; roll s; failed | ")
                        .append(round3((Double) r.get("throughput_ratio"))).append("; ").append(r.get("ratios"))
                        .append("; ").append(round3((Double) r.get("after_ratio"))).append("; ").append(r.get("roll_and_after_ratio"))
                        .append("; ").append(r.get("roll_seconds"))
                        .append("; ").append(r.get("failed_requests")).append(" |\n");
            }
        });
        return b.toString();
    }

    static String firstAnswer(Map<String, Object> j) {
        StringBuilder b = new StringBuilder();
        for (String key : List.of("first_answer", "first_answer_warm", "first_answer_warm_nice0", "first_answer_unaware",
                "first_answer_unaware_warm", "first_answer_netty", "first_answer_netty_warm")) {
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
        b.append("| 4 idle hello workers, total PSS, median of 3 | --jvm-share off; auto; auto with the archive unrelocated | ")
                .append(map(mem.get("off")).get("total_pss_mib")).append(" MiB; ")
                .append(map(mem.get("auto")).get("total_pss_mib")).append(" MiB; ")
                .append(map(mem.get("auto, archive unrelocated")).get("total_pss_mib")).append(" MiB |\n");
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

    private Report() {
    }
}
