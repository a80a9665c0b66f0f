package benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static benchmarks.Bench.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/** 4 rolling restart under load. */
final class Rolls {
    private Rolls() {
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
            ratios.add(during.rps() / base.rps());
            failed.add(during.errors());
            steady.add(base.rps());
        }
        return Map.of("window_s", seconds, "failed_requests", failed, "throughput_ratio", median(ratios),
                "ratios", ratios.stream().map(Measure::round3).toList(), "steady_rps", median(steady));
    }

    static final Pattern ROLL_DONE = Pattern.compile("rolling restart done");
}
