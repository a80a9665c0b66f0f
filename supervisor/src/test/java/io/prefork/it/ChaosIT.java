package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.posix.Processes;
import io.prefork.unix.Linux;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * For 30 s under load (-Dprefork.chaos.seconds=N for longer, up to 120 within the test's timeout),
 * every 2 s a random READY worker (frozen ones too) is SIGKILLed or SIGSTOPped,
 * the last one that runs included: 2 workers, so both are often frozen at once. The server must
 * answer in every 2-second window: a kill is replaced at once (a spare is promoted), and when every
 * READY worker is frozen while connections wait, --stall-timeout finds it and starts successors
 * long before the heartbeat's --timeout would. Every failed request must be one whose connection a
 * victim held: read from /proc right after the victim stopped, and, for one left frozen, again
 * until it is gone. Nothing else may fail.
 */
@Timeout(180)
class ChaosIT {
    private static final Duration CHAOS = Duration.ofSeconds(Long.getLong("prefork.chaos.seconds", 30));
    /** A victim every 2 s, less the rounds whose victim died on its own or had no READY worker to pick. */
    private static final long MIN_VICTIMS = CHAOS.toSeconds() * 5 / 12;

    @TempDir
    Path dir;

    @Test
    void killsAndStopsOfAnyWorkerUnderLoadLeaveNoTwoSecondsUnansweredAndLoseOnlyTheVictimsConnections() throws Exception {
        Random random = new Random(7);
        // Two spares: a stall, a kill and the next stall can come within the second it takes a new spare to boot.
        try (RunningSupervisor s = RunningSupervisor.start(dir, "-w", "2", "-b", "127.0.0.1:0", "--spares", "2",
                "--stall-timeout", "0.5", "--timeout", "3", "--graceful-timeout", "5")) {
            int port = s.port();
            s.awaitReadyWorkers(2, Duration.ofSeconds(60));
            Set<Integer> heldByVictims = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Set<Long> stopped = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Thread watcher = new Thread(() -> watchFrozen(stopped, port, heldByVictims), "chaos-watcher");
            watcher.setDaemon(true);
            watcher.start();
            List<Long> victims = new ArrayList<>();
            int kills = 0;
            int stops = 0;
            int allFrozen = 0;
            // Many client threads: one stuck on a frozen worker's connection must not hide that the others are answered.
            Load load = Load.start(port, 2, 8, 20);
            long longestGap;
            try {
                long end = System.nanoTime() + CHAOS.toNanos();
                while (System.nanoTime() < end) {
                    RunningSupervisor.pause(2000);
                    List<Long> candidates = new ArrayList<>(s.readyWorkers().values());
                    if (candidates.isEmpty()) {
                        continue;
                    }
                    long victim = candidates.get(random.nextInt(candidates.size()));
                    if (!Processes.kill(victim, Linux.SIGSTOP) || !ProcFs.awaitAllThreadsStopped(victim, Duration.ofSeconds(2))) {
                        continue;  // it died on its own in between
                    }
                    heldByVictims.addAll(clientPortsHeldBy(victim, port));
                    victims.add(victim);
                    if (random.nextBoolean()) {
                        Processes.kill(victim, Linux.SIGKILL);
                        kills++;
                    } else {
                        stopped.add(victim);  // left frozen: a stall or the heartbeat check must find it
                        stops++;
                        if (stopped.containsAll(candidates)) {
                            allFrozen++;
                        }
                    }
                }
                longestGap = load.longestGapMillis();
            } finally {
                load.close();
                watcher.interrupt();
                watcher.join(5000);
            }
            List<Load.Failure> failures = load.failures();
            List<Load.Failure> untraced = failures.stream().filter(f -> !heldByVictims.contains(f.localPort())).toList();
            System.out.printf("chaos: %d SIGKILL, %d SIGSTOP in %d s (every READY worker frozen %d times; %d stalls found);"
                            + " %d requests ok, %d failed, %d of them traced to a connection a victim held"
                            + " (%d such connections); longest time without an answer: %d ms%n",
                    kills, stops, CHAOS.toSeconds(), allFrozen, s.count("WARN stall: "), load.ok(), failures.size(),
                    failures.size() - untraced.size(), heldByVictims.size(), longestGap);
            assertTrue(kills + stops >= MIN_VICTIMS, "victims: " + (kills + stops) + ", fewer than " + MIN_VICTIMS);
            assertTrue(longestGap < 2000, "no answer for " + longestGap + " ms:\n" + s.logText());
            assertEquals(List.of(), untraced, "failures no victim's connection explains; victims " + victims
                    + "; the supervisor's exits:\n" + s.logText().lines().filter(l -> l.contains("-> EXITED")
                    || l.contains("no heartbeat") || l.contains("stall")).collect(java.util.stream.Collectors.joining("\n")));
            for (long pid : stopped) {
                assertTrue(RunningSupervisor.awaitGone(pid, Duration.ofSeconds(15)),
                        "frozen worker " + pid + " was found and ended:\n" + s.logText());
            }
        }
    }


    /** The client-side ports of the connections to {@code serverPort} that {@code pid} holds open. */
    private static Set<Integer> clientPortsHeldBy(long pid, int serverPort) throws IOException {
        Set<Long> inodes = ProcFs.socketInodes(pid);
        Set<Integer> ports = new HashSet<>();
        String local = String.format(":%04X", serverPort);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(local) && !f[3].equals("0A") && inodes.contains(parse(f[9]))) {
                    ports.add(Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    /** Until each frozen victim is gone, keeps adding the connections it holds. */
    private static void watchFrozen(Set<Long> frozen, int port, Set<Integer> held) {
        while (!Thread.currentThread().isInterrupted()) {
            for (long pid : frozen) {
                try {
                    held.addAll(clientPortsHeldBy(pid, port));
                } catch (IOException gone) {
                    // it exited: nothing more to read
                }
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static long parse(String inode) {
        try {
            return Long.parseLong(inode);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

}
