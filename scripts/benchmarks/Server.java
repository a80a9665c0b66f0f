package benchmarks;

import java.io.IOException;
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
import static benchmarks.Replacement.*;
import static benchmarks.Starts.*;
import static benchmarks.Measure.*;

/** A server under test (prefork or a plain JVM), its log, and the processes the benchmark started. */
final class Server {
    final String name;
    final Process process;
    final Path log;
    final int port;

    Server(String name, Process process, Path log, int port) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.port = port;
    }

    static Server plain() throws Exception {
        return plain("io.prefork.examples.HelloApp");
    }

    static Server plain(String app) throws Exception {
        int port = freePort();
        Process p = start("plain", List.of(JAVA, "-cp", plainClasspath(), app, "127.0.0.1", Integer.toString(port)));
        untilFirst200(port, System.nanoTime());
        return new Server("plain", p, out.resolve("plain.log"), port);
    }

    static Server prefork(String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("scripts/prefork").toString(), "-b", "127.0.0.1:0",
                "--ctl-socket", out.resolve(name + ".ctl").toString(), "--cache-dir", out.resolve("cache").toString()));
        cmd.addAll(List.of(args));
        Process p = start(name, cmd);
        Server s = new Server(name, p, out.resolve(name + ".log"), 0);
        Matcher m = s.awaitMatch(Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)"), 0);
        Server ready = new Server(name, p, s.log, Integer.parseInt(m.group(1)));
        ready.awaitReady(Integer.parseInt(args[1]));
        return ready;
    }

    String text() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    int count(Pattern p) {
        Matcher m = p.matcher(text());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    Matcher awaitMatch(Pattern p, int skip) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(text());
            int seen = 0;
            while (m.find()) {
                if (seen++ >= skip) {
                    return m;
                }
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException(name + ": no /" + p + "/ #" + (skip + 1) + " in " + log);
    }

    Map<Integer, Long> awaitReady(int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Map<Integer, Long> ready = new LinkedHashMap<>();
            Matcher r = READY.matcher(text());
            while (r.find()) {
                ready.put(Integer.parseInt(r.group(2)), Long.parseLong(r.group(3)));
            }
            Matcher e = Pattern.compile("worker (\\d+) \\(pid (\\d+)\\): \\w+ -> (EXITED|DRAINING)").matcher(text());
            while (e.find()) {
                ready.remove(Integer.parseInt(e.group(1)), Long.parseLong(e.group(2)));
            }
            if (ready.size() >= n) {
                return ready;
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException(name + ": " + n + " workers not READY; see " + log);
    }

    void stop() throws Exception {
        stop(process);
    }

    static String plainClasspath() {
        return ROOT.resolve("examples/target/prefork-examples.jar") + ":" + ROOT.resolve("worker/target/prefork-worker.jar");
    }

    static Process start(String name, List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(out.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve(name + ".log").toFile())).start();
        STARTED.add(p);
        return p;
    }

    /** TERM, then wait: a prefork supervisor drains and takes its workers with it. */
    static void stop(Process p) throws Exception {
        p.toHandle().destroy();
        if (!p.waitFor(40, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /**
     * Ends whatever is still running, as on a failed run: TERM first, so that a supervisor drains and
     * removes its control socket's directory in /tmp (a SIGKILL at once left one behind), then SIGKILL
     * what is left after 20 s.
     */
    static void killAll() {
        for (Process p : STARTED) {
            p.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (Process p : STARTED) {
            try {
                p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    static void kill(long pid, int signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
