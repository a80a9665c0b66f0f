package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;

/**
 * --stall-timeout through fakes: connections waiting in the accept queue while no READY worker runs
 * (no CPU time) is a stall, and gets successors and thread dumps; workers that use the CPU while
 * the queue grows are overloaded, and get nothing.
 */
class StallTest extends SupervisorTestBase {
    /** The listening socket, with an accept queue the test fills. */
    static final class Queue implements ListenerSource {
        int queued;

        @Override
        public List<Handoff> forSlot(int slotId) {
            return List.of();
        }

        @Override
        public List<Metrics.ListenQueue> queues() {
            return List.of(new Metrics.ListenQueue("127.0.0.1:8080", "", queued, 128));
        }
    }

    final Queue queue = new Queue();

    private void startWith(int workers, int maxSurge) throws InterruptedException {
        Settings settings = new Settings.Builder(workers).bootsAtOnce(SupervisorTestBase.ALL_AT_ONCE).maxSurge(maxSurge).stallTimeout(Duration.ofSeconds(1)).build();
        supervisor = new Supervisor(new Generation(settings, launcher), queue, clock, lines.log, new LinkedBlockingQueue<>(),
                new ControlAdmission(), Runnable::run);
        step();
        for (Fakes.Process p : launcher.alive()) {
            bringUp(p);
        }
    }

    /** {@code ms} of loop time in 100 ms steps; each running worker uses {@code cpuShare} of a core meanwhile. */
    private void run(long ms, List<Fakes.Process> running, double cpuShare) throws InterruptedException {
        for (long t = 0; t < ms; t += 100) {
            clock.advanceMillis(100);
            for (Fakes.Process p : running) {
                p.cpuMillis += (long) (100 * cpuShare);
            }
            step();
        }
    }

    private String metrics() throws InterruptedException {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        supervisor.post(new Event.AdminRequest("metrics", List.of(), reply));
        step();
        return reply.join().text();
    }

    @Test
    void connectionsWaitingWhileNoReadyWorkerRunsGetSuccessorsAndThreadDumps() throws Exception {
        startWith(2, 2);
        List<Fakes.Process> frozen = launcher.alive();
        run(500, frozen, 0.5);  // an idle moment: nothing queued
        queue.queued = 3;
        run(900, List.of(), 0);
        assertFalse(logged("stall:"), "not before --stall-timeout:\n" + lines.text());
        run(300, List.of(), 0);
        assertTrue(logged("stall: 3 connection(s) in the accept queue for "), lines.text());
        assertTrue(logged("worker 1 (pid " + frozen.get(0).pid + ") used 0 ms of CPU"), lines.text());
        for (Fakes.Process p : frozen) {
            assertEquals(List.of(io.prefork.unix.Linux.SIGQUIT), p.signals, "a thread dump, and nothing that would thaw or kill it");
            assertEquals(0, p.kills + p.terms);
        }
        assertEquals(4, launcher.launched.size(), "a successor for each stalled worker");
        bringUp(launcher.launched.get(2));
        bringUp(launcher.launched.get(3));
        queue.queued = 0;
        run(200, List.of(), 0);
        assertTrue(logged("stall over after "), lines.text());
        String text = metrics();
        assertTrue(text.contains("prefork_stalls_total 1"), text);
        assertTrue(text.contains("prefork_worker_restarts_total{cause=\"stall\",detail=\"\"} 2"), text);
    }

    @Test
    void aStallStartsNoMoreThanMaxSurgeAtOnceAndTheRestWhenTheyAreReady() throws Exception {
        startWith(2, 1);
        queue.queued = 5;
        run(1300, List.of(), 0);
        assertEquals(3, launcher.launched.size(), "one successor at a time (--max-surge 1):\n" + lines.text());
        bringUp(launcher.launched.get(2));
        run(200, List.of(), 0);
        assertEquals(4, launcher.launched.size(), "then the second stalled slot's:\n" + lines.text());
    }

    @Test
    void aWorkerThatFreezesWhileAStallGoesOnIsFoundToo() throws Exception {
        startWith(2, 2);
        queue.queued = 5;  // and it never empties: the stall of the first two must not hide the third
        run(1300, List.of(), 0);
        assertEquals(4, launcher.launched.size(), lines.text());
        Fakes.Process next = launcher.launched.get(2);
        bringUp(next);
        bringUp(launcher.launched.get(3));
        run(1000, List.of(next, launcher.launched.get(3)), 0.5);  // they run: the stall is over
        assertTrue(logged("stall over after "), lines.text());
        run(1500, List.of(launcher.launched.get(3)), 0.5);  // and now worker 1's new JVM freezes; worker 2's runs
        assertEquals(4, launcher.launched.size(), "one that runs is enough: no stall:\n" + lines.text());
        run(1500, List.of(), 0);  // both frozen again, the queue never empty since the start
        assertEquals(6, launcher.launched.size(), "successors for the newly stalled:\n" + lines.text());
        assertEquals(2, lines.text().split("WARN stall: ", -1).length - 1, lines.text());
    }

    @Test
    void workersThatUseTheCpuWhileTheQueueGrowsAreOverloadedNotStalled() throws Exception {
        startWith(2, 2);
        List<Fakes.Process> busy = launcher.alive();
        for (int i = 0; i < 50; i++) {
            queue.queued = 10 * (i + 1);
            run(100, busy, 1.0);
        }
        assertFalse(logged("stall:"), lines.text());
        assertEquals(2, launcher.launched.size(), "no successor for an overload");
    }

    @Test
    void oneWorkerThatRunsIsEnoughToMakeItNoStall() throws Exception {
        startWith(2, 2);
        List<Fakes.Process> workers = launcher.alive();
        queue.queued = 4;
        run(3000, List.of(workers.get(1)), 0.3);
        assertFalse(logged("stall:"), lines.text());
        assertEquals(2, launcher.launched.size());
    }
}
