package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A supervisor's long life, compressed: worker crashes (SIGKILL) and HUP rolls, by the hundred in
 * `mvn verify` and by the thousand with -Dprefork.soak.kills=2000 -Dprefork.soak.rolls=200. The
 * supervisor runs as the README starts it (scripts/prefork, its own JVM options); the workers are
 * the C worker, so that replacing one costs milliseconds. A slot's worker is killed at most once
 * in 5 s, so every crash is an isolated one (no backoff) and the 64 slots take turns. The
 * supervisor's open fds, threads and resident memory are sampled throughout, printed, and must end
 * where they were after the first 100 crashes: fds and threads within 5, memory within 10%.
 */
@Timeout(3600)
class SoakIT {
    private static final int KILLS = Integer.getInteger("prefork.soak.kills", 300);
    private static final int ROLLS = Integer.getInteger("prefork.soak.rolls", 10);
    private static final int SLOTS = 64;
    private static final long SERVED_NANOS = Duration.ofMillis(5300).toNanos();
    private static final Pattern ROLL_DONE = Pattern.compile("rolling restart done");

    @TempDir
    Path dir;

    record Sample(int kills, int rolls, long fds, long threads, long rssKib) {
        @Override
        public String toString() {
            return kills + " kills, " + rolls + " rolls: " + fds + " fds, " + threads + " threads, " + rssKib + " KiB";
        }
    }

    @Test
    void crashesAndRollsLeaveTheSupervisorsFdsThreadsAndMemoryFlat() throws Exception {
        Path worker = CWorkerIT.compile(dir);
        Path log = dir.resolve("soak.log");
        ProcessBuilder pb = new ProcessBuilder(RunningSupervisor.HOME.resolve("scripts/prefork").toString(),
                "-w", Integer.toString(SLOTS), "-b", "127.0.0.1:0", "--worker-command", worker.toString(),
                "--cache-dir", dir.resolve("cache").toString());
        pb.directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        // scripts/prefork makes TMPDIR the JVM's java.io.tmpdir: the socket directories go with the test's,
        // which JUnit removes even after a teardown's SIGKILL.
        pb.environment().put("TMPDIR", dir.toString());
        try (RunningSupervisor s = RunningSupervisor.adopt(pb.start(), log)) {
            s.awaitReadyWorkers(SLOTS, Duration.ofSeconds(60));
            Map<Integer, Long> lastKill = new HashMap<>();
            List<Sample> samples = new ArrayList<>();
            Sample baseline = null;
            int kills = 0;
            int rolls = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(55).toNanos();
            while (kills < KILLS || rolls < ROLLS) {
                assertTrue(System.nanoTime() < deadline, "the soak did not finish: " + samples);
                if (rolls < ROLLS && (long) rolls * KILLS <= (long) kills * ROLLS) {
                    s.signal(Linux.SIGHUP);
                    s.awaitMatch(ROLL_DONE, rolls, Duration.ofSeconds(60));
                    rolls++;
                }
                long now = System.nanoTime();
                for (Map.Entry<Integer, Long> w : s.readyWorkers().entrySet()) {
                    Long last = lastKill.get(w.getKey());
                    if (kills < KILLS && (last == null || now - last >= SERVED_NANOS) && isWorkerOf(s, w.getValue())) {
                        Processes.kill(w.getValue(), Linux.SIGKILL);
                        lastKill.put(w.getKey(), now);
                        kills++;
                        if (kills % 50 == 0 || kills == 100) {
                            samples.add(sampleAtRest(s, kills, rolls));
                            if (kills == 100) {
                                baseline = samples.get(samples.size() - 1);
                            }
                        }
                    }
                }
                RunningSupervisor.pause(50);
            }
            Sample end = sampleAtRest(s, kills, rolls);
            samples.add(end);
            System.out.println("soak: " + kills + " worker crashes and " + rolls + " HUP rolls; the supervisor:");
            samples.forEach(x -> System.out.println("  " + x));
            assertEquals(200, Http.get(s.port(), "/").status());
            assertEquals(kills, s.count("killed by SIGKILL"), "every crash was seen");
            assertTrue(Math.abs(end.fds() - baseline.fds()) <= 5, "fds: " + baseline + " -> " + end);
            assertTrue(Math.abs(end.threads() - baseline.threads()) <= 5, "threads: " + baseline + " -> " + end);
            assertTrue(Math.abs(end.rssKib() - baseline.rssKib()) <= baseline.rssKib() / 10, "memory: " + baseline + " -> " + end);
            s.signal(Linux.SIGTERM);
            assertEquals(0, s.awaitExit(Duration.ofSeconds(60)));
        }
    }

    /**
     * Samples once the supervisor itself (ctl status) has exactly the slots' workers, all READY, and no
     * other: it holds one control connection (an fd and a reader thread) per worker, so a moment
     * mid-replacement would count the workers, not a leak. (Its log cannot tell: over thousands of
     * workers on a busy machine, pids are reused.)
     */
    /** Pids are reused quickly here: kill only a process the supervisor is the parent of. */
    private static boolean isWorkerOf(RunningSupervisor s, long pid) {
        return java.util.Optional.of(pid).flatMap(ProcessHandle::of).flatMap(ProcessHandle::parent)
                .map(p -> p.pid() == s.pid()).orElse(false);
    }

    private Sample sampleAtRest(RunningSupervisor s, int kills, int rolls) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            String status = RunningSupervisor.ctl(dir, "status", "--json").out();
            int workers = status.split("\\{\"id\":", -1).length - 1;
            int ready = status.split("\"state\":\"READY\"", -1).length - 1;
            if (workers == SLOTS && ready == SLOTS) {
                return sample(s.pid(), kills, rolls);
            }
            assertTrue(System.nanoTime() < deadline, "not at rest after " + kills + " kills and " + rolls + " rolls: "
                    + ready + " READY of " + workers + " workers");
            RunningSupervisor.pause(100);
        }
    }

    private static Sample sample(long pid, int kills, int rolls) throws Exception {
        long fds;
        try (Stream<Path> f = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = f.count();
        }
        long threads;
        try (Stream<Path> t = Files.list(Path.of("/proc/" + pid + "/task"))) {
            threads = t.count();
        }
        long rss = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
        return new Sample(kills, rolls, fds, threads, rss);
    }
}
