package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** In-memory stand-ins for processes, control connections and time. */
public final class Fakes {
    private Fakes() {
    }

    static final class Clock implements LongSupplier {
        long nanos = 1_000_000_000L;

        @Override
        public long getAsLong() {
            return nanos;
        }

        void advanceMillis(long ms) {
            nanos += TimeUnit.MILLISECONDS.toNanos(ms);
        }
    }

    static final class Process implements WorkerProcess {
        final long pid;
        final int workerId;
        final String token;
        final CompletableFuture<Integer> exit = new CompletableFuture<>();
        final List<Integer> signals = new ArrayList<>();
        final long maxRequests;
        long rss = 50 << 20;
        /** CPU time used so far: a test advances it for a worker that runs. */
        long cpuMillis;
        int terms;
        int kills;
        /** Started at a lower CPU priority (the launcher's {@code lowersBoots} and the spec's yieldCpu); until lifted. */
        boolean yielding;
        int lifts;

        Process(long pid, int workerId, String token) {
            this(pid, workerId, token, 0);
        }

        Process(long pid, int workerId, String token, long maxRequests) {
            this.pid = pid;
            this.workerId = workerId;
            this.token = token;
            this.maxRequests = maxRequests;
        }

        @Override
        public long pid() {
            return pid;
        }

        @Override
        public void terminate() {
            terms++;
        }

        @Override
        public void kill() {
            kills++;
        }

        @Override
        public void signal(int signal) {
            signals.add(signal);
        }

        @Override
        public long rssBytes() {
            return rss;
        }

        @Override
        public long cpuMillis() {
            return cpuMillis;
        }

        @Override
        public boolean yieldsCpu() {
            return yielding;
        }

        @Override
        public void stopYielding() {
            yielding = false;
            lifts++;
        }

        @Override
        public CompletableFuture<Integer> onExit() {
            return exit;
        }

        void exit(int value) {
            exit.complete(value);
        }
    }

    static final class Launcher implements WorkerLauncher {
        final List<Process> launched = new ArrayList<>();
        long nextPid = 1000;
        boolean fail;
        /** Like the fd limit: a start that fails for a while, then works. */
        boolean exhausted;
        /** Like --boot-nice with the right to lift: a boot that may yield does. */
        boolean lowersBoots;
        /** How many times the loop said an archive became ready. */
        int archivesReady;

        @Override
        public void archiveReady() {
            archivesReady++;
        }

        @Override
        public WorkerProcess launch(Spec spec) throws IOException {
            if (fail) {
                throw new IOException("no such file: /no/java");
            }
            if (exhausted) {
                throw new ResourcesExhausted("error=24, Too many open files", null);
            }
            Process p = new Process(nextPid++, spec.workerId(), spec.token(), spec.maxRequests());
            p.yielding = lowersBoots && spec.yieldCpu();
            launched.add(p);
            return p;
        }

        Process last() {
            return launched.get(launched.size() - 1);
        }

        List<Process> alive() {
            return launched.stream().filter(p -> !p.exit.isDone()).toList();
        }
    }

    static final class Connection implements WorkerConnection {
        final long peerPid;
        final List<ControlMessage> sent = new ArrayList<>();
        int[] fdsSent;
        boolean closed;

        Connection(long peerPid) {
            this.peerPid = peerPid;
        }

        @Override
        public long peerPid() {
            return peerPid;
        }

        @Override
        public int peerUid() {
            return 0;
        }

        @Override
        public void send(ControlMessage message) throws IOException {
            if (closed) {
                throw new IOException("closed");
            }
            sent.add(message);
        }

        @Override
        public void sendWithFds(ControlMessage message, int[] fds) throws IOException {
            send(message);
            fdsSent = fds.clone();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** A Log whose lines a test can read. */
    public static final class Lines {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        public final Log log = new Log(new PrintStream(buffer, true, StandardCharsets.UTF_8));

        public String text() {
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }
}
