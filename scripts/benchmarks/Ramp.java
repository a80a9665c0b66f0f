package benchmarks;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.regex.Pattern;

import static benchmarks.Bench.*;
import static benchmarks.Measure.*;
import static benchmarks.Replacement.*;
import static benchmarks.Server.*;

/**
 * Time from a worker's spawn to 90% of steady throughput: {@code -w 1}, a closed-loop load of 8
 * keep-alive connections timed in 100 ms buckets, kill -9 of the worker (an isolated crash: the
 * supervisor spawns the replacement at once), and the time from the kill until the mean of 500 ms
 * of throughput first reaches 90% of the 5 s before the kill. On JDK 17 with the class archive
 * (fast), and on JDK 25 with no cache (plain), the boot-trained AOT cache (fast) and the cache a
 * worker recorded from traffic (trained).
 */
final class Ramp {
    static final String JDK25 = System.getProperty("bench.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    static final int AFTER_KILL_S = 15;
    static final Pattern RECORDED = Pattern.compile("recorded AOT cache ready");

    private Ramp() {
    }

    static Map<String, Object> ramps() throws Exception {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("jdk17 fast (AppCDS)", ramp("ramp17", false, "-w", "1", "--worker-start", "fast"));
        all.put("jdk25 plain (no cache)", ramp("ramp25p", false, "-w", "1", "--java", JDK25, "--worker-start", "plain"));
        all.put("jdk25 fast (boot-trained AOT cache)", ramp("ramp25f", false, "-w", "1", "--java", JDK25, "--worker-start", "fast"));
        all.put("jdk25 trained (recorded AOT cache)", ramp("ramp25t", true, "-w", "1", "--java", JDK25, "--worker-start", "trained"));
        return all;
    }

    static Map<String, Object> ramp(String name, boolean trained, String... args) throws Exception {
        Server s = Server.prefork(name, args);
        if (List.of(args).contains("fast")) {
            s.awaitMatch(ARCHIVE_READY, 0);  // the replacements start from it
        }
        if (trained) {
            record(s);
        }
        List<Double> seconds = new ArrayList<>();
        List<Double> steady = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            long victim = s.awaitReady(1).values().iterator().next();
            Series load = Series.start(s.port, 8);
            sleep(10_000);  // a warm worker: the first round's is new
            long killedAt = System.currentTimeMillis();
            double before = load.perSecond(killedAt - 5000, killedAt);
            int readyBefore = s.count(READY);
            kill(victim, 9);
            s.awaitMatch(READY, readyBefore);
            sleep(AFTER_KILL_S * 1000L);
            load.stop();
            seconds.add(round3(load.reached(0.9 * before, killedAt) / 1000.0));
            steady.add(round1(before));
        }
        int recorders = s.count(Pattern.compile("records an AOT cache"));
        s.stop();
        if (trained && recorders != 1) {
            throw new IllegalStateException(name + ": " + recorders + " workers recorded; the replacements should start from the cache");
        }
        return Map.of("args", String.join(" ", args), "seconds_to_90pct_median", median(seconds), "runs_s", seconds,
                "steady_rps", steady);
    }

    /**
     * The first worker records; replaced by a roll, it writes the cache as it exits. A new connection
     * per request, so that with more than one worker the recording one gets its share: kept-alive
     * connections made at once can all land on another.
     */
    static void record(Server s) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t2", "-c8", "-d10s", "-H", "Connection: close",
                "http://127.0.0.1:" + s.port + "/").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(40, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed: " + text);
        }
        kill(s.process.pid(), 1);
        s.awaitMatch(RECORDED, 0);
    }

    /** A closed-loop load: each thread one keep-alive connection (a new one when it breaks), completions per 100 ms. */
    static final class Series {
        final long start = System.currentTimeMillis();
        final AtomicIntegerArray buckets = new AtomicIntegerArray(20 * 60 * 10);
        final List<Thread> threads = new ArrayList<>();
        volatile boolean running = true;

        static Series start(int port, int connections) {
            Series series = new Series();
            for (int i = 0; i < connections; i++) {
                Thread t = new Thread(() -> series.run(port), "load-" + i);
                t.setDaemon(true);
                t.start();
                series.threads.add(t);
            }
            return series;
        }

        void run(int port) {
            byte[] request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            while (running) {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    socket.setSoTimeout(10_000);
                    socket.setTcpNoDelay(true);
                    InputStream in = new BufferedInputStream(socket.getInputStream());
                    OutputStream o = socket.getOutputStream();
                    while (running) {
                        o.write(request);
                        o.flush();
                        in.readNBytes(contentLength(in));
                        int bucket = (int) ((System.currentTimeMillis() - start) / 100);
                        if (bucket < buckets.length()) {
                            buckets.incrementAndGet(bucket);
                        }
                    }
                } catch (IOException e) {
                    // the worker died under the connection: a new one waits in the backlog for the next worker
                }
            }
        }

        /** Reads the status line and headers; returns Content-Length. */
        private static int contentLength(InputStream in) throws IOException {
            int length = 0;
            StringBuilder line = new StringBuilder();
            while (true) {
                line.setLength(0);
                for (int c = in.read(); c != '\n'; c = in.read()) {
                    if (c < 0) {
                        throw new EOFException();
                    }
                    if (c != '\r') {
                        line.append((char) c);
                    }
                }
                if (line.length() == 0) {
                    return length;
                }
                if (line.length() > 15 && line.substring(0, 15).equalsIgnoreCase("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(15_000);
            }
        }

        /** Mean requests per second between two wall-clock times (ms). */
        double perSecond(long from, long to) {
            long n = 0;
            for (int b = (int) ((from - start) / 100); b < (to - start) / 100; b++) {
                n += buckets.get(b);
            }
            return n * 1000.0 / (to - from);
        }

        /**
         * Milliseconds from {@code since} to the end of the first 500 ms whose mean rate reaches
         * {@code rps}; the whole measured span if none does.
         */
        long reached(double rps, long since) {
            int first = (int) ((since - start) / 100);
            int last = (int) ((System.currentTimeMillis() - start) / 100) - 1;
            for (int b = first; b + 5 <= last; b++) {
                long n = 0;
                for (int i = b; i < b + 5; i++) {
                    n += buckets.get(i);
                }
                if (n * 2.0 >= rps) {  // 5 buckets = 0.5 s
                    return start + (b + 5) * 100L - since;
                }
            }
            return (last - first) * 100L;
        }
    }
}
