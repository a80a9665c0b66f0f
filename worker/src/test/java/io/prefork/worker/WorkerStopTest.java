package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The order of a stop: the listeners are taken away first, only then does the worker say it drains
 * (the app answers Connection: close from then on), then the app's stop handlers run, then it exits.
 */
class WorkerStopTest {
    /** Far beyond the test: the stop's watchdog must never halt the test's JVM. */
    private static final Duration TIME_LEFT = Duration.ofHours(1);

    private final List<String> steps = new CopyOnWriteArrayList<>();
    private final CountDownLatch withdrawalMayEnd = new CountDownLatch(1);
    private final CountDownLatch withdrawalBegun = new CountDownLatch(1);
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private WorkerStop stop;

    @Test
    void aClientToldToReconnectCannotBeAcceptedAgainByTheWorkerThatToldIt() throws Exception {
        stop = new WorkerStop(() -> {
            steps.add("withdraw");
            withdrawalBegun.countDown();
            try {
                withdrawalMayEnd.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return 1;
        }, timeLeft -> {
            steps.add("close idle");
            return 0;
        }, exited::complete);
        stop.addHandler(timeLeft -> steps.add("handler, draining=" + stop.isDraining()));

        stop.stop(TIME_LEFT, Duration.ZERO, "test");
        assertTrue(withdrawalBegun.await(30, TimeUnit.SECONDS), "the stop takes the listeners away first");
        assertTrue(stop.isStopping());
        assertFalse(stop.isDraining(), "still accepting: a client told to reconnect now could come back here");
        assertEquals(List.of("withdraw"), steps, "no handler runs before the listeners are gone");

        withdrawalMayEnd.countDown();
        assertEquals(0, exited.get(30, TimeUnit.SECONDS), "then it exits 0");
        assertTrue(stop.isDraining());
        assertEquals(List.of("withdraw", "handler, draining=true"), steps);
    }

    @Test
    void anAppWithNoStopHandlerHasItsIdleConnectionsEndedOnceTheListenersAreGone() throws Exception {
        stop = new WorkerStop(() -> {
            steps.add("withdraw");
            return 2;
        }, timeLeft -> {
            steps.add("close idle, draining=" + stop.isDraining());
            return 0;
        }, exited::complete);

        stop.stop(TIME_LEFT, Duration.ZERO, "test");
        assertEquals(0, exited.get(30, TimeUnit.SECONDS));
        assertEquals(List.of("withdraw", "close idle, draining=true"), steps);
    }

    @Test
    void aWithdrawalThatFailsStillLeadsToTheDrain() throws Exception {
        stop = new WorkerStop(() -> {
            throw new java.io.IOException("no /proc");
        }, timeLeft -> 0, exited::complete);
        stop.addHandler(timeLeft -> steps.add("handler, draining=" + stop.isDraining()));

        stop.stop(TIME_LEFT, Duration.ZERO, "test");
        assertEquals(0, exited.get(30, TimeUnit.SECONDS));
        assertEquals(List.of("handler, draining=true"), steps, "the app still answers Connection: close and stops");
    }
}
