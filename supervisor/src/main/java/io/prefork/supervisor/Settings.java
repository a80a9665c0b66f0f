package io.prefork.supervisor;

import java.time.Duration;

/**
 * How the loop behaves: the part of the configuration that a reload may change. The CLI fills it
 * (boot's Main), tests shrink the times. Every default comes from {@link Flag}, written there once.
 */
public record Settings(int workers, Duration bootTimeout, Duration gracefulTimeout, Duration fastStopTimeout,
                       int maxBootFailures, Duration timeout, int maxSurge, long maxRequests,
                       long maxRequestsJitter, long maxRssBytes, int spares, Duration spareDelay, Duration lameDuck,
                       int maxRestarts, Duration restartWindow, Duration stallTimeout, int bootsAtOnce, int cpus) {
    /** After a fast stop's SIGTERM, SIGKILL follows this much later. Not an option: nobody asked. */
    static final Duration FAST_STOP_TIMEOUT = Duration.ofSeconds(1);
    /** Workers that fail to boot this many times in a row make the supervisor give up (exit 3). */
    static final int MAX_BOOT_FAILURES = 5;
    /** The CPUs the supervisor may use: what the serving workers' load is measured against (see {@link YieldingBoots}). */
    static final int CPUS = Runtime.getRuntime().availableProcessors();
    /**
     * Worker JVMs that boot at once, from nothing (a spare's promotion is not a boot): one per two
     * CPUs. A JVM's boot keeps more than a core busy (its main thread, the JIT's, the GC's), so two
     * booting on 2 cores each take twice as long: one after the other, the first serves in half the
     * time and the last no later. Not an option: the machine says it.
     */
    static final int BOOTS_AT_ONCE = Math.max(1, CPUS / 2);

    /** A duration as the options give it, in seconds: "30", "2.5". */
    public static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? Long.toString(millis / 1000) : Double.toString(millis / 1000.0);
    }

    public static Settings defaults(int workers) {
        return new Builder(workers).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public Settings withTimeouts(Duration boot, Duration graceful, Duration heartbeat) {
        return toBuilder().bootTimeout(boot).gracefulTimeout(graceful).timeout(heartbeat).build();
    }

    public Settings withRecycling(int surge, long requests, long jitter, long rssBytes) {
        return toBuilder().maxSurge(surge).maxRequests(requests, jitter).maxRssBytes(rssBytes).build();
    }

    /** How many worker JVMs may boot at once; tests that start several at once say so. */
    public Settings withBootsAtOnce(int n) {
        return toBuilder().bootsAtOnce(n).build();
    }

    /** The machine's CPUs, as the loop counts them; tests fix it. */
    public Settings withCpus(int n) {
        return toBuilder().cpus(n).build();
    }

    public Settings withSpares(int n) {
        return toBuilder().spares(n).build();
    }

    /** --spare-delay: how long a promoted spare serves alone before the next spare boots. */
    public Settings withSpareDelay(Duration d) {
        return toBuilder().spareDelay(d).build();
    }

    /** --max-restarts / --restart-window: stop if more unplanned restarts than {@code max} happen in {@code window}. */
    public Settings withRestartBudget(int max, Duration window) {
        return toBuilder().restartBudget(max, window).build();
    }

    /** --lame-duck: after TERM, stay unready but serving this long before the graceful stop. */
    public Settings withLameDuck(Duration d) {
        return toBuilder().lameDuck(d).build();
    }

    /** Settings one field at a time; starts from the defaults. */
    public static final class Builder {
        private int workers;
        private Duration bootTimeout = Flag.BOOT_TIMEOUT.defaultSeconds();
        private Duration gracefulTimeout = Flag.GRACEFUL_TIMEOUT.defaultSeconds();
        private Duration fastStopTimeout = FAST_STOP_TIMEOUT;
        private int maxBootFailures = MAX_BOOT_FAILURES;
        private Duration timeout = Flag.TIMEOUT.defaultSeconds();
        private int maxSurge = (int) Flag.MAX_SURGE.defaultNumber();
        private long maxRequests = Flag.MAX_REQUESTS.defaultNumber();
        private long maxRequestsJitter = Flag.MAX_REQUESTS_JITTER.defaultNumber();
        private long maxRssBytes = Flag.MAX_WORKER_RSS.defaultNumber() << 20;
        private int spares = (int) Flag.SPARES.defaultNumber();
        private Duration spareDelay = Flag.SPARE_DELAY.defaultSeconds();
        private Duration lameDuck = Flag.LAME_DUCK.defaultSeconds();
        private int maxRestarts = (int) Flag.MAX_RESTARTS.defaultNumber();
        private Duration restartWindow = Flag.RESTART_WINDOW.defaultSeconds();
        private Duration stallTimeout = Flag.STALL_TIMEOUT.defaultSeconds();
        private int bootsAtOnce = BOOTS_AT_ONCE;
        private int cpus = CPUS;

        public Builder(int workers) {
            this.workers = workers;
        }

        private Builder(Settings s) {
            workers = s.workers;
            bootTimeout = s.bootTimeout;
            gracefulTimeout = s.gracefulTimeout;
            fastStopTimeout = s.fastStopTimeout;
            maxBootFailures = s.maxBootFailures;
            timeout = s.timeout;
            maxSurge = s.maxSurge;
            maxRequests = s.maxRequests;
            maxRequestsJitter = s.maxRequestsJitter;
            maxRssBytes = s.maxRssBytes;
            spares = s.spares;
            spareDelay = s.spareDelay;
            lameDuck = s.lameDuck;
            maxRestarts = s.maxRestarts;
            restartWindow = s.restartWindow;
            stallTimeout = s.stallTimeout;
            bootsAtOnce = s.bootsAtOnce;
            cpus = s.cpus;
        }

        public Builder bootTimeout(Duration d) {
            bootTimeout = d;
            return this;
        }

        public Builder gracefulTimeout(Duration d) {
            gracefulTimeout = d;
            return this;
        }

        /** The heartbeat timeout; zero turns the check off. */
        public Builder timeout(Duration d) {
            timeout = d;
            return this;
        }

        public Builder maxSurge(int n) {
            maxSurge = n;
            return this;
        }

        public Builder maxRequests(long n, long jitter) {
            maxRequests = n;
            maxRequestsJitter = jitter;
            return this;
        }

        public Builder maxRssBytes(long bytes) {
            maxRssBytes = bytes;
            return this;
        }

        public Builder spares(int n) {
            spares = n;
            return this;
        }

        public Builder spareDelay(Duration d) {
            spareDelay = d;
            return this;
        }

        public Builder lameDuck(Duration d) {
            lameDuck = d;
            return this;
        }

        public Builder restartBudget(int max, Duration window) {
            maxRestarts = max;
            restartWindow = window;
            return this;
        }

        /** --stall-timeout; zero turns stall detection off. */
        public Builder stallTimeout(Duration d) {
            stallTimeout = d;
            return this;
        }

        public Builder cpus(int n) {
            cpus = n;
            return this;
        }

        public Builder bootsAtOnce(int n) {
            bootsAtOnce = n;
            return this;
        }

        public Settings build() {
            return new Settings(workers, bootTimeout, gracefulTimeout, fastStopTimeout, maxBootFailures, timeout,
                    maxSurge, maxRequests, maxRequestsJitter, maxRssBytes, spares, spareDelay, lameDuck, maxRestarts, restartWindow,
                    stallTimeout, bootsAtOnce, cpus);
        }
    }
}
