package benchmarks;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static benchmarks.Bench.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/**
 * 4 rolling restart under load. wrk runs through the whole round and stamps each answer with the
 * wall-clock time it arrived (10 ms buckets); the roll's span is read from the supervisor's log, from
 * "rolling restart (SIGHUP)" to "rolling restart done". Throughput during the roll is the answers
 * inside that span over its length, against the answers in the steady seconds before the HUP: a
 * slower roll is charged for every second it takes, and a fixed window cannot cut it short. The 5 s
 * after the roll (the new workers' first seconds of real traffic) are given apart. Each round first
 * warms the workers the last round started, under wrk for 8 s.
 */
final class Rolls {
    private Rolls() {
    }

    static final Pattern ROLL_BEGUN = Pattern.compile("(?m)^(\\S+) .*rolling restart \\(SIGHUP\\)");
    static final Pattern ROLL_DONE = Pattern.compile("(?m)^(\\S+) .*rolling restart done");
    static final int STEADY_MS = 4000;
    static final int AFTER_MS = 5000;
    static final int WARM_S = 8;

    static Map<String, Object> rollingRestart(Server two) throws Exception {
        List<Double> ratios = new ArrayList<>();
        List<Long> failed = new ArrayList<>();
        List<String> failedKinds = new ArrayList<>();
        List<Double> steady = new ArrayList<>();
        List<Double> spans = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        List<Double> rollAndAfter = new ArrayList<>();
        List<List<Long>> series = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            two.awaitReady(2);
            wrk(two.port, "/", WARM_S, false);  // the last round's new workers are cold: steady means warm
            int rollsBefore = two.count(ROLL_DONE);
            Process wrk = new ProcessBuilder("wrk", "-t2", "-c32", "-d120s", "--timeout", "5s", "-s",
                    lua.resolve("timeline.lua").toString(), "http://127.0.0.1:" + two.port + "/")
                    .redirectErrorStream(true).start();
            STARTED.add(wrk);
            sleep(1000 + STEADY_MS);
            kill(two.process.pid(), 1);
            Matcher done = two.awaitMatch(ROLL_DONE, rollsBefore);
            sleep(AFTER_MS + 500);
            kill(wrk.pid(), 2);
            String text = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!wrk.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("wrk did not stop at SIGINT: " + text);
            }
            Matcher begun = ROLL_BEGUN.matcher(two.text());
            for (int i = 0; i <= rollsBefore; i++) {
                if (!begun.find()) {
                    throw new IllegalStateException("no rolling restart #" + (i + 1) + " in " + two.log);
                }
            }
            long from = Instant.parse(begun.group(1)).toEpochMilli() / 10;
            long to = Instant.parse(done.group(1)).toEpochMilli() / 10;
            TreeMap<Long, Long> buckets = buckets(text);
            double rollRps = count(buckets, from, to) / ((to - from) / 100.0);
            double steadyRps = count(buckets, from - STEADY_MS / 10, from) / (STEADY_MS / 1000.0);
            ratios.add(rollRps / steadyRps);
            after.add(count(buckets, to, to + AFTER_MS / 10) / (AFTER_MS / 1000.0) / steadyRps);
            // "Done" is the last successor's READY: the last old worker's drain and the new JVMs'
            // first seconds come after it. Both windows together: a change that only moves the dip
            // out of the roll's span does not raise this one.
            rollAndAfter.add(count(buckets, from, to + AFTER_MS / 10) / ((to + AFTER_MS / 10 - from) / 100.0) / steadyRps);
            steady.add(steadyRps);
            spans.add((to - from) / 100.0);
            failed.add(errors(text));
            failedKinds.add(errorKinds(text));
            List<Long> perSecond = new ArrayList<>();
            for (long s = from - 200; s < to + AFTER_MS / 10; s += 100) {
                perSecond.add(count(buckets, s, s + 100));
            }
            series.add(perSecond);
        }
        return Map.of("failed_requests", failed, "failed_by_kind", failedKinds, "throughput_ratio", median(ratios),
                "ratios", ratios.stream().map(Measure::round3).toList(), "steady_rps", median(steady),
                "roll_seconds", spans.stream().map(Measure::round3).toList(),
                "after_ratio", median(after), "after_ratios", after.stream().map(Measure::round3).toList(),
                "roll_and_after_ratio", round3(median(rollAndAfter)),
                "answers_per_second_from_2s_before", series);
    }

    static TreeMap<Long, Long> buckets(String wrkOutput) {
        TreeMap<Long, Long> buckets = new TreeMap<>();
        Matcher m = Pattern.compile("COUNT (\\d+) (\\d+)").matcher(wrkOutput);
        while (m.find()) {
            buckets.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        }
        if (buckets.isEmpty()) {
            throw new IllegalStateException("no answers timed by wrk: " + wrkOutput);
        }
        return buckets;
    }

    /** Answers in the 10 ms buckets [from, to). */
    static long count(TreeMap<Long, Long> buckets, long from, long to) {
        return buckets.subMap(from, to).values().stream().mapToLong(Long::longValue).sum();
    }

    /** wrk's own count of each kind of failure: "connect=0 read=0 write=0 status=0 timeout=0". */
    static String errorKinds(String wrkOutput) {
        Matcher s = Pattern.compile("STATS .* (connect=\\d+ read=\\d+ write=\\d+ status=\\d+ timeout=\\d+)").matcher(wrkOutput);
        return s.find() ? s.group(1) : "no STATS line";
    }

    static long errors(String wrkOutput) {
        Matcher s = Pattern.compile("STATS .* connect=(\\d+) read=(\\d+) write=(\\d+) status=(\\d+) timeout=(\\d+)")
                .matcher(wrkOutput);
        if (!s.find()) {
            throw new IllegalStateException("no STATS line from wrk: " + wrkOutput);
        }
        long n = 0;
        for (int i = 1; i <= 5; i++) {
            n += Long.parseLong(s.group(i));
        }
        return n;
    }
}
