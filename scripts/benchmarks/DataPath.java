package benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static benchmarks.Bench.*;
import static benchmarks.Server.*;
import static benchmarks.Measure.*;

/** 1 data-path overhead, 2 balance between workers, 5 footprint. */
final class DataPath {
    private DataPath() {
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
                            .add(thisRound.get(s.name).rps() / thisRound.get("plain").rps());
                }
            }
            Map<String, Object> byServer = new LinkedHashMap<>();
            runs.forEach((name, list) -> byServer.put(name, Map.of(
                    "rps", median(list.stream().map(w -> w.rps()).toList()),
                    "p50_ms", median(list.stream().map(w -> w.p50ms()).toList()),
                    "p99_ms", median(list.stream().map(w -> w.p99ms()).toList()),
                    "errors", list.stream().mapToLong(w -> w.errors()).sum(),
                    "runs_rps", list.stream().map(w -> round1(w.rps())).toList())));
            ratios.forEach((name, list) -> byServer.put("ratio " + name, Map.of("median", median(list),
                    "runs", list.stream().map(Measure::round3).toList())));
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
            List<Long> counts = new ArrayList<>(w.perPid().values());
            long total = counts.stream().mapToLong(Long::longValue).sum();
            double mean = total / (double) counts.size();
            double var = counts.stream().mapToDouble(c -> (c - mean) * (c - mean)).sum() / counts.size();
            largest.add(counts.stream().mapToLong(Long::longValue).max().orElse(0) / (double) total);
            cv.add(Math.sqrt(var) / mean);
            splits.add(counts);
        }
        return Map.of("largest_share", median(largest), "cv", median(cv), "splits", splits);
    }

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
}
