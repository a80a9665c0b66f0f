package io.prefork.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.worker.ProcSelf.ThreadState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which threads the listeners' withdrawal wakes, and when it may return, driven through a scripted
 * view of the threads: each call of {@code states()} shows the next scripted picture (the last one
 * stays). The listeners' fds are 7 and 8.
 */
class WakeAcceptorsTest {
    private static final List<Integer> LISTENER_FDS = List.of(7, 8);
    private static final Duration LONG = Duration.ofSeconds(10);

    private static ThreadState inAccept(int fd) {
        return new ThreadState(false, fd, -1);
    }

    /** The scripted pictures; a signal counts as taken at once. */
    private static final class Script implements ListenerWithdrawal.Threads {
        final Deque<Map<Integer, ThreadState>> pictures = new ArrayDeque<>();
        final List<Integer> interrupted = new ArrayList<>();
        final Set<Integer> ended = new HashSet<>();
        int looks;

        @SafeVarargs
        Script(Map<Integer, ThreadState>... pictures) {
            this.pictures.addAll(List.of(pictures));
        }

        @Override
        public Map<Integer, ThreadState> states() {
            looks++;
            return pictures.size() > 1 ? pictures.poll() : pictures.peek();
        }

        @Override
        public boolean interrupt(int tid) {
            interrupted.add(tid);
            return !ended.contains(tid);
        }

        @Override
        public boolean interruptPending(int tid) {
            return false;
        }
    }

    @Test
    void aThreadBlockedInAcceptOnAListenerIsWokenOnceAndNoOtherIs() throws Exception {
        Script threads = new Script(
                Map.of(1, inAccept(7), 2, inAccept(30), 3, ThreadState.BLOCKED),
                // thread 1 is back in accept() on fd 7, which is the placeholder now: left alone
                Map.of(1, inAccept(7), 2, inAccept(30), 3, ThreadState.BLOCKED));
        assertEquals(Set.of(), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, threads, LONG));
        assertEquals(List.of(1), threads.interrupted, "only the thread in accept() on a listener's fd");
        assertEquals(1, threads.looks, "nothing was runnable: one look is enough");
    }

    /**
     * The thread woken in accept() by a connection but not yet run shows as runnable: the withdrawal
     * waits until it is seen blocked (it has taken the connection by then, an fd the drain counts),
     * and wakes it if that is in accept() on a listener's fd number.
     */
    @Test
    void aThreadRunnableAsTheFdsAreReplacedIsWaitedForUntilItIsSeenBlocked() throws Exception {
        Script threads = new Script(
                Map.of(1, ThreadState.RUNNABLE, 2, ThreadState.BLOCKED),
                Map.of(1, ThreadState.RUNNABLE, 2, ThreadState.BLOCKED),
                Map.of(1, ThreadState.RUNNABLE, 2, ThreadState.BLOCKED),
                Map.of(1, inAccept(8), 2, ThreadState.BLOCKED));
        assertEquals(Set.of(), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, threads, LONG));
        assertEquals(4, threads.looks, "looked until thread 1 was seen blocked");
        assertEquals(List.of(1), threads.interrupted, "and woke it there, in accept() on fd 8");
    }

    @Test
    void aThreadThatStartsRunningLaterOrEndsIsNotWaitedFor() throws Exception {
        Script threads = new Script(
                Map.of(1, ThreadState.RUNNABLE, 2, ThreadState.BLOCKED),
                // 1 ended; 2 runs now, but it was blocked outside accept() when the fds were replaced
                Map.of(2, ThreadState.RUNNABLE, 3, ThreadState.RUNNABLE));
        assertEquals(Set.of(), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, threads, LONG));
        assertEquals(2, threads.looks);
        assertEquals(List.of(), threads.interrupted);
    }

    /**
     * A runnable thread that has run a millisecond of CPU since the first look is busy outside
     * accept() (a thread woken there needs microseconds to take its connection and leave): not waited
     * for, while one that has barely run is.
     */
    @Test
    void aThreadThatKeepsRunningIsNotWaitedForOneThatHasNotRunIs() throws Exception {
        Script threads = new Script(
                Map.of(1, ThreadState.runnable(5_000_000), 2, ThreadState.runnable(7_000_000)),
                Map.of(1, ThreadState.runnable(5_900_000), 2, ThreadState.runnable(7_000_100)),
                Map.of(1, ThreadState.runnable(6_000_000), 2, ThreadState.runnable(7_000_200)),
                Map.of(1, ThreadState.runnable(6_000_000), 2, inAccept(7)));
        assertEquals(Set.of(), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, threads, LONG));
        assertEquals(4, threads.looks, "thread 1 settled at the third look (1 ms run); thread 2 at the fourth");
        assertEquals(List.of(2), threads.interrupted);

        Script starved = new Script(Map.of(1, ThreadState.runnable(5_000_000)), Map.of(1, ThreadState.runnable(5_999_999)));
        assertEquals(Set.of(1), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, starved, Duration.ofMillis(50)),
                "just under a millisecond run: still waited for, to the deadline");
    }

    @Test
    void aThreadStillRunnableAtTheDeadlineIsReturned() throws Exception {
        Script threads = new Script(Map.of(1, ThreadState.RUNNABLE, 2, inAccept(7)));
        assertEquals(Set.of(1), ListenerWithdrawal.wakeAcceptors(LISTENER_FDS, threads, Duration.ofMillis(50)));
        assertEquals(List.of(2), threads.interrupted, "the blocked acceptor was still woken");
    }

    @Test
    void theSyscallFilesTextIsParsed() {
        assertEquals(ThreadState.RUNNABLE, ThreadState.parse("running\n"));
        int accept = ProcSelf.ACCEPT_SYSCALLS.get(0);
        int accept4 = ProcSelf.ACCEPT_SYSCALLS.get(1);
        assertEquals(inAccept(4), ThreadState.parse(
                accept + " 0x4 0x7fab007a4730 0x7fab007a4728 0xc 0x0 0x69ec3f768 0x7fab007a46e0 0x7fab2c52972f\n"));
        assertEquals(inAccept(11), ThreadState.parse(accept4 + " 0xb 0x0 0x0 0x80000 0x0 0x0 0x7ffd 0x7f12\n"));
        assertEquals(ThreadState.BLOCKED, ThreadState.parse("1000 0x7f0 0x80 0x0 0x0 0x0 0x0 0x7ffd 0x7f12\n"));
        assertEquals(ThreadState.BLOCKED, ThreadState.parse("-1 0x7ffd 0x7f12\n"), "stopped outside any call");
    }
}
