package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import io.prefork.unix.Linux;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Operating a running supervisor: rolling restarts, resizing, liveness, recycling, admin commands. */
@Timeout(10)
class OperateTest extends SupervisorTestBase {
    private Settings settings(int workers) {
        return Settings.defaults(workers).withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3))
                .withBootsAtOnce(ALL_AT_ONCE);
    }

    private List<Fakes.Process> bringUpAll() throws InterruptedException {
        List<Fakes.Process> all = List.copyOf(launcher.launched);
        for (Fakes.Process p : all) {
            bringUp(p);
        }
        return all;
    }

    private CompletableFuture<AdminReply> admin(String command, String... args) throws InterruptedException {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        supervisor.post(new Event.AdminRequest(command, List.of(args), reply));
        step();
        return reply;
    }

    @Test
    void aRollReplacesEachWorkerOnlyOnceItsSuccessorIsReady() throws Exception {
        start(settings(2));
        List<Fakes.Process> old = bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertEquals(3, launcher.launched.size(), "one successor at a time (--max-surge 1)");
        Fakes.Process next1 = launcher.last();
        assertEquals(1, next1.workerId);
        assertEquals(2, supervisor.pool().readyCount(), "the old workers still serve");
        assertEquals(WorkerState.READY, worker(old.get(0).pid).state());

        bringUp(next1);
        assertEquals(WorkerState.DRAINING, worker(old.get(0).pid).state(), "retired once its successor is READY");
        assertTrue(logged("READY -> DRAINING (sent STOP: replaced by pid " + next1.pid + ")"), lines.text());
        assertEquals(2, supervisor.pool().readyCount(), "never fewer READY than configured");
        assertEquals(4, launcher.launched.size(), "then the next slot");
        assertEquals(2, launcher.last().workerId);

        bringUp(launcher.last());
        assertEquals(WorkerState.DRAINING, worker(old.get(1).pid).state());
        assertTrue(logged("rolling restart done: 2 worker(s) replaced"), lines.text());
        old.forEach(p -> p.exit(0));
        step();
        assertEquals(2, supervisor.pool().readyCount());
        assertEquals(4, launcher.launched.size(), "planned exits are not restarted");
    }

    @Test
    void aSuccessorThatFailsAbortsTheRollAndTheOldWorkersKeepServing() throws Exception {
        start(settings(3));
        List<Fakes.Process> old = bringUpAll();
        CompletableFuture<AdminReply> reply = admin("reload");
        Fakes.Process broken = launcher.last();
        Fakes.Connection c = new Fakes.Connection(broken.pid);
        supervisor.post(new Event.Hello(c, broken.token));
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.BOOT_ERROR, "the app's main threw boom")));
        broken.exit(3);
        step();
        assertTrue(reply.isDone());
        assertFalse(reply.get().ok());
        assertTrue(reply.get().text().contains("failed to boot: the app's main threw boom"), reply.get().text());
        assertEquals(3, supervisor.pool().readyCount());
        old.forEach(p -> assertEquals(WorkerState.READY, worker(p.pid).state()));
        clock.advanceMillis(60_000);
        step();
        assertEquals(4, launcher.launched.size(), "no further successor after the abort");
        assertTrue(step(), "the supervisor stays up");
    }

    @Test
    void aSlowSuccessorIsKilledAtTheBootTimeoutAndAbortsTheRoll() throws Exception {
        start(settings(1).withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ZERO));
        bringUpAll();
        CompletableFuture<AdminReply> reply = admin("reload");
        Fakes.Process slow = launcher.last();
        clock.advanceMillis(10_000);
        step();
        assertEquals(1, slow.kills, lines.text());
        slow.exit(137);
        step();
        assertTrue(reply.get().text().contains("not READY within --boot-timeout 10 s"), reply.get().text());
        assertEquals(1, supervisor.pool().readyCount());
    }

    @Test
    void maxSurgeBootsThatManySuccessorsAtOnce() throws Exception {
        start(settings(3).withRecycling(2, 0, 0, 0));
        bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertEquals(5, launcher.launched.size());
        assertEquals(List.of(1, 2), launcher.launched.subList(3, 5).stream().map(p -> p.workerId).toList());
    }

    @Test
    void ttinAndTtouChangeTheCountByOneWithAFloorOfOne() throws Exception {
        start(settings(2));
        List<Fakes.Process> old = bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.TTIN));
        step();
        assertEquals(3, supervisor.pool().size());
        assertEquals(3, launcher.last().workerId);
        bringUp(launcher.last());
        assertEquals(3, supervisor.pool().readyCount());

        supervisor.post(new Event.SignalReceived(HandledSignal.TTOU));
        supervisor.post(new Event.SignalReceived(HandledSignal.TTOU));
        step();
        assertEquals(1, supervisor.pool().size());
        assertEquals(WorkerState.DRAINING, worker(launcher.last().pid).state());
        assertEquals(WorkerState.DRAINING, worker(old.get(1).pid).state());
        supervisor.post(new Event.SignalReceived(HandledSignal.TTOU));
        step();
        assertEquals(1, supervisor.pool().size());
        assertTrue(logged("SIGTTOU: already at 1 worker(s), and the floor is 1"));
    }

    @Test
    void winchStopsTheWorkersAndTtinOrHupBringsThemBack() throws Exception {
        start(settings(2));
        List<Fakes.Process> old = bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.WINCH));
        step();
        assertEquals(0, supervisor.pool().size());
        old.forEach(p -> assertEquals(WorkerState.DRAINING, worker(p.pid).state()));
        old.forEach(p -> p.exit(0));
        clock.advanceMillis(60_000);
        assertTrue(step(), "the supervisor and its sockets stay");
        assertEquals(2, launcher.launched.size());

        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertEquals(2, supervisor.pool().size(), "HUP restores the configured count");
        assertEquals(4, launcher.launched.size());
    }

    @Test
    void aSilentWorkerGetsAThreadDumpRequestThenSigkill() throws Exception {
        start(settings(1));
        Fakes.Process p = bringUpAll().get(0);
        Fakes.Connection c = (Fakes.Connection) worker(p.pid).connection();
        clock.advanceMillis(2_500);
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.HEARTBEAT, "7")));
        step();
        clock.advanceMillis(2_500);
        step();
        assertTrue(p.signals.isEmpty(), "a heartbeat 2.5 s ago is fine with --timeout 3");
        clock.advanceMillis(1_000);
        step();
        assertEquals(List.of(Linux.SIGCONT, Linux.SIGQUIT), p.signals, "thawed, then asked for a thread dump");
        assertEquals(ControlMessage.of(MessageType.STOP, "1000"), c.sent.get(c.sent.size() - 1),
                "told to stop first, so that once thawed it takes no new connections");
        assertTrue(logged("no heartbeat for 3500 ms (--timeout 3 s)"), lines.text());
        assertEquals(0, p.kills);
        clock.advanceMillis(1_000);
        step();
        assertEquals(1, p.kills);
        p.exit(137);
        step();
        assertTrue(logged("READY -> DRAINING (sent STOP: no heartbeat)"), lines.text());
        assertTrue(logged("DRAINING -> EXITED (killed by SIGKILL: no heartbeat for 3 s)"), lines.text());
        assertTrue(logged("worker 1: restarting in 0 ms"));
    }

    @Test
    void aWorkerAtItsRequestLimitIsReplacedOnceTheSuccessorIsReady() throws Exception {
        start(settings(1).withRecycling(1, 50, 10, 0));
        Fakes.Process first = launcher.last();
        assertTrue(first.maxRequests >= 50 && first.maxRequests <= 60, "limit " + first.maxRequests);
        bringUp(first);
        Fakes.Connection c = (Fakes.Connection) worker(first.pid).connection();
        supervisor.post(new Event.Message(c, ControlMessage.of(MessageType.RECYCLE, Long.toString(first.maxRequests))));
        step();
        assertTrue(logged("served " + first.maxRequests + " requests (limit " + first.maxRequests + "); recycling"), lines.text());
        Fakes.Process successor = launcher.last();
        assertEquals(2, launcher.launched.size());
        assertEquals(WorkerState.READY, worker(first.pid).state(), "keeps serving meanwhile");
        bringUp(successor);
        assertEquals(WorkerState.DRAINING, worker(first.pid).state());
        assertEquals(1, supervisor.pool().readyCount());
    }

    @Test
    void aWorkerOverTheMemoryLimitIsRecycled() throws Exception {
        start(settings(1).withRecycling(1, 0, 0, 100L << 20));
        Fakes.Process p = bringUpAll().get(0);
        clock.advanceMillis(1_000);
        step();
        assertEquals(1, launcher.launched.size());
        p.rss = 101L << 20;
        clock.advanceMillis(1_000);
        step();
        assertTrue(logged("resident memory 101 MiB is over --max-worker-rss 100 MiB"), lines.text());
        assertEquals(2, launcher.launched.size());
    }

    @Test
    void adminStatusScaleReloadAndStop() throws Exception {
        start(settings(2));
        List<Fakes.Process> old = bringUpAll();
        String json = admin("status", "--json").get().text();
        assertTrue(json.startsWith("{\"workers\":[{\"id\":1,\"pid\":" + old.get(0).pid + ",\"state\":\"READY\",\"role\":\"active\""), json);
        assertTrue(json.contains("\"restarts\":0,\"rss_bytes\":52428800,\"heap_used_bytes\":-1,\"heap_max_bytes\":-1}"), json);
        supervisor.post(new Event.Message(worker(old.get(0).pid).connection(), ControlMessage.of(MessageType.HEARTBEAT, "7",
                Long.toString(12L << 20), Long.toString(256L << 20))));
        json = admin("status", "--json").get().text();
        assertTrue(json.contains("\"requests\":7,\"restarts\":0,\"rss_bytes\":52428800,\"heap_used_bytes\":12582912,"
                + "\"heap_max_bytes\":268435456}"), "a JVM worker's heartbeat tells its heap: " + json);
        assertTrue(admin("status").get().text().contains("12/256M"));
        assertTrue(admin("metrics").get().text().contains("prefork_worker_heap_max_bytes{pid=\"" + old.get(0).pid
                + "\",role=\"active\",worker=\"1\"} 268435456"), admin("metrics").get().text());
        String table = admin("status").get().text();
        assertTrue(table.startsWith("ID   PID      STATE     ROLE"), table);

        assertEquals(AdminReply.ok("workers: 2 -> 4"), admin("scale", "4").get());
        assertEquals(4, supervisor.pool().size());
        assertFalse(admin("scale", "zero").get().ok());
        assertFalse(admin("frobnicate").get().ok());

        CompletableFuture<AdminReply> reload = admin("reload");
        assertFalse(reload.isDone(), "a reload answers when its roll ends");
        for (int i = 0; i < 4 && !reload.isDone(); i++) {
            bringUp(launcher.last());
        }
        assertTrue(reload.isDone());
        assertTrue(reload.get().ok(), reload.get().text());

        assertEquals(AdminReply.ok("graceful stop"), admin("stop").get());
    }

    @Test
    void aHupDuringARollIsQueuedBehindIt() throws Exception {
        start(settings(1));
        bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        CompletableFuture<AdminReply> second = admin("reload");
        assertTrue(logged("a rolling restart is under way; another one follows it"));
        bringUp(launcher.last());
        assertFalse(second.isDone(), "the first roll is done; the queued one runs now");
        bringUp(launcher.last());
        assertTrue(second.get().ok());
        assertEquals(3, launcher.launched.size());
        assertNull(supervisor.failure());
    }

    @Test
    void whileStoppingNoRollOrResizeStarts() throws Exception {
        start(settings(2));
        bringUpAll();
        supervisor.post(new Event.SignalReceived(HandledSignal.TERM));
        step();
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        supervisor.post(new Event.SignalReceived(HandledSignal.TTIN));
        step();
        assertTrue(logged("ignoring SIGHUP: the supervisor is stopping"), lines.text());
        assertTrue(logged("ignoring SIGTTIN: the supervisor is stopping"));
        assertEquals(AdminReply.error("the supervisor is stopping"), admin("reload").get());
        assertEquals(AdminReply.error("the supervisor is stopping"), admin("scale", "3").get());
        assertEquals(2, launcher.launched.size());
        assertEquals(2, supervisor.pool().size());
    }

    @Test
    void eachReloadAppliesTheConfigurationItReads() throws Exception {
        start(settings(1));
        bringUpAll();
        supervisor.setReloader(() -> new Generation(settings(3), launcher));
        supervisor.post(new Event.SignalReceived(HandledSignal.HUP));
        step();
        assertTrue(logged("workers: 1 -> 3 (SIGHUP)"), lines.text());
        assertEquals(3, supervisor.pool().size());
        for (Fakes.Process p : List.copyOf(launcher.alive())) {
            if (worker(p.pid).state() == WorkerState.STARTING) {
                bringUp(p);
            }
        }
        assertTrue(logged("rolling restart done"), lines.text());

        supervisor.setReloader(() -> new Generation(settings(2), launcher));
        admin("reload");
        assertEquals(2, supervisor.pool().size(), "the second reload reads the configuration again");
    }

    /**
     * Reading a reload's configuration may start a JVM (the class archive's check): it runs on
     * another thread, and the loop goes on meanwhile. A stop that comes first makes the read stale.
     */
    @Test
    void aReloadReadsItsConfigurationOffTheLoopThread() throws Exception {
        java.util.concurrent.ExecutorService offLoop = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            supervisor = new Supervisor(new Generation(settings(1), launcher), slotId -> List.of(), clock, lines.log,
                    new java.util.concurrent.LinkedBlockingQueue<>(), new ControlAdmission(), offLoop);
            step();
            bringUpAll();
            java.util.concurrent.CountDownLatch readable = new java.util.concurrent.CountDownLatch(1);
            List<Thread> readers = new java.util.concurrent.CopyOnWriteArrayList<>();
            supervisor.setReloader(() -> {
                readers.add(Thread.currentThread());
                try {
                    readable.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Generation(settings(2), launcher);
            });
            CompletableFuture<AdminReply> reload = admin("reload");
            supervisor.post(new Event.SignalReceived(HandledSignal.TTIN));
            step();
            assertTrue(logged("workers: 1 -> 2 (SIGTTIN)"), "the loop goes on while the configuration is read");
            assertFalse(reload.isDone());
            readable.countDown();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!logged("rolling restart (ctl reload)") && System.nanoTime() < deadline) {
                supervisor.step(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50));
            }
            assertTrue(logged("rolling restart (ctl reload): replacing 2 worker(s)"), lines.text());
            assertEquals(1, readers.size());
            assertFalse(readers.get(0).getName().equals(Thread.currentThread().getName()), "read off the loop thread");

            java.util.concurrent.CountDownLatch second = new java.util.concurrent.CountDownLatch(1);
            supervisor.setReloader(() -> {
                try {
                    second.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Generation(settings(3), launcher);
            });
            supervisor.post(new Event.SignalReceived(HandledSignal.INT));
            step();
            second.countDown();
            offLoop.shutdown();
            assertTrue(offLoop.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS));
            step();
            assertFalse(logged("workers: 2 -> 3"), "a read that a stop overtook is not applied");
        } finally {
            offLoop.shutdownNow();
        }
    }
}
