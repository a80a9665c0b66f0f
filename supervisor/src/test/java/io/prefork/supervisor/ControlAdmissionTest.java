package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Who gets past the control socket's door, and when a child may wait for the loop to know it. */
@Timeout(20)
class ControlAdmissionTest {
    private static final long CHILD = 100;
    private static final long STRANGER = 200;
    private final ControlAdmission admission = new ControlAdmission(pid -> pid == CHILD);

    @Test
    void anExpectedPidIsAdmittedOnceAndAStrangerNever() throws Exception {
        admission.expect(CHILD);
        assertTrue(admission.claim(CHILD));
        assertFalse(admission.claim(CHILD), "a second connection");
        long start = System.nanoTime();
        assertFalse(admission.claim(STRANGER));
        assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(500), "a stranger is refused at once");
    }

    @Test
    void aChildThatConnectsBeforeTheLoopExpectsItIsAdmittedOnceItDoes() throws Exception {
        CompletableFuture<Boolean> early = CompletableFuture.supplyAsync(() -> {
            try {
                return admission.claim(CHILD);
            } catch (InterruptedException e) {
                return false;
            }
        });
        Thread.sleep(100);
        assertFalse(early.isDone(), "the connection waits for the loop");
        admission.expect(CHILD); // what the loop does once ProcessBuilder.start() returned
        assertTrue(early.get(5, TimeUnit.SECONDS));
        assertFalse(admission.claim(CHILD), "once only, and without waiting again");
    }

    @Test
    void aChildTheLoopNeverExpectsIsRefusedAfterTheGrace() throws Exception {
        long start = System.nanoTime();
        assertFalse(admission.claim(CHILD));
        assertTrue(System.nanoTime() - start >= ControlAdmission.LATE_REGISTRATION.toNanos());
    }

    @Test
    void aForgottenPidIsNoLongerAdmitted() throws Exception {
        admission.expect(STRANGER);
        admission.forget(STRANGER);
        assertFalse(admission.claim(STRANGER));
    }
}
