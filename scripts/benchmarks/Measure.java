package benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static benchmarks.Bench.*;
import static benchmarks.DataPath.*;

/** wrk runs and the small measurements: pids, ports, CPU ticks, memory, medians. */
final class Measure {
    private Measure() {
    }

    // ---- wrk ----

    /** One wrk run: requests/s, latency percentiles in ms, failures (socket errors + non-2xx), per-pid counts. */
    record Wrk(double rps, double p50ms, double p99ms, long errors, Map<String, Long> perPid) {
    }

    static Wrk wrk(int port, String path, int seconds, boolean countPids) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c32", "-d" + seconds + "s", "--timeout", "5s", "-s",
                lua.resolve(countPids ? "balance.lua" : "stats.lua").toString(), "http://127.0.0.1:" + port + path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed: " + text);
        }
        Matcher s = Pattern.compile("STATS requests=(\\d+) duration_us=(\\d+) p50_us=(\\d+) p99_us=(\\d+) "
                + "connect=(\\d+) read=(\\d+) write=(\\d+) status=(\\d+) timeout=(\\d+)").matcher(text);
        if (!s.find()) {
            throw new IllegalStateException("no STATS line from wrk: " + text);
        }
        long[] f = new long[9];
        for (int i = 0; i < 9; i++) {
            f[i] = Long.parseLong(s.group(i + 1));
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        Matcher m = Pattern.compile("COUNT (\\d+) (\\d+)").matcher(text);
        while (m.find()) {
            pids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return new Wrk(f[0] / (f[1] / 1e6), f[2] / 1000.0, f[3] / 1000.0, f[4] + f[5] + f[6] + f[7] + f[8], pids);
    }

    static Path writeLua() throws IOException {
        Path dir = Files.createDirectories(out.resolve("lua"));
        // Every script prints the same: a STATS line, then, if its threads counted answers by a key
        // (a worker's pid, a 10 ms time bucket), one COUNT line per key, summed over the threads.
        String done = """
                function done(summary, latency, requests)
                  io.write(string.format("STATS requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
                    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
                    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
                  if threads then
                    local total = {}
                    for _, t in ipairs(threads) do
                      for key, n in pairs(t:get("counts")) do total[key] = (total[key] or 0) + n end
                    end
                    for key, n in pairs(total) do io.write(string.format("COUNT %s %d\\n", tostring(key), n)) end
                  end
                end
                """;
        String counting = """
                threads = {}
                function setup(thread) table.insert(threads, thread) end
                function init(args) counts = {} end
                """;
        Files.writeString(dir.resolve("stats.lua"), done);
        Files.writeString(dir.resolve("balance.lua"), counting + """
                function response(status, headers, body)
                  local pid = headers["X-Worker-Pid"]
                  if pid then counts[pid] = (counts[pid] or 0) + 1 end
                end
                """ + done);
        Files.writeString(dir.resolve("timeline.lua"), counting + """
                local ffi = require("ffi")
                ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } pf_timeval;
                           int gettimeofday(pf_timeval *tv, void *tz); ]]
                local now = ffi.new("pf_timeval")
                function response(status, headers, body)
                  ffi.C.gettimeofday(now, nil)
                  local b = tonumber(now.tv_sec) * 100 + math.floor(tonumber(now.tv_usec) / 10000)
                  counts[b] = (counts[b] or 0) + 1
                end
                """ + done);
        return dir;
    }

    // ---- small helpers ----

    static long getPid(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            OutputStream o = s.getOutputStream();
            o.write("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String r = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            Matcher m = Pattern.compile("(?i)x-worker-pid: (\\d+)").matcher(r);
            return r.startsWith("HTTP/1.1 200") && m.find() ? Long.parseLong(m.group(1)) : -1;
        }
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long kib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long pss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }


    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double m = a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        return round3(m);
    }

    static double round1(double x) {
        return Math.round(x * 10) / 10.0;
    }

    static double round3(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
