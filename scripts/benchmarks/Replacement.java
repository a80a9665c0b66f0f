package benchmarks;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static benchmarks.Bench.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/** 3 what a user feels when a worker dies: replacement, first answer, first seconds of traffic. */
final class Replacement {
    private Replacement() {
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
                "runs_ready_ms", toReady.stream().map(Measure::round1).toList(),
                "runs_served_ms", toServed.stream().map(Measure::round1).toList(),
                "runs_backoff_ms", backoff.stream().map(Measure::round1).toList(),
                "runs_spawn_to_ready_ms", boot.stream().map(Measure::round1).toList());
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
            steady.add(before.p99ms());
            first.add(after.p99ms());
            ratios.add(round3(after.p99ms() / before.p99ms()));
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
}
