import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * scripts/bench-startup runs this: two prefork trees (NAME=HOME each), round by round in turn, each
 * round a cold start to the first 200 and two rolling restarts; spawn -> BOOTING and -> READY read from the log.
 */
public class StartupAB {
    static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
    /** More supervisor options for both trees (BENCH_ARGS, split on spaces), e.g. {@code --user nobody}. */
    static final List<String> EXTRA = System.getProperty("bench.args", "").isBlank() ? List.of()
            : List.of(System.getProperty("bench.args").trim().split("\\s+"));
    static final Pattern STARTED = Pattern.compile("^(\\S+) prefork\\[\\d+\\] INFO worker \\d+ \\(pid (\\d+)\\): started(, STARTING| to replace )",
            Pattern.MULTILINE);
    static final Pattern BOOTING = Pattern.compile("^(\\S+) prefork\\[\\d+\\] INFO worker \\d+ \\(pid (\\d+)\\): STARTING -> BOOTING",
            Pattern.MULTILINE);
    static final Pattern READY = Pattern.compile("^(\\S+) prefork\\[\\d+\\] INFO worker \\d+ \\(pid (\\d+)\\): BOOTING -> READY",
            Pattern.MULTILINE);

    record Tree(String name, Path home, List<Double> firstOk, List<Double> booting, List<Double> coldBooting,
            List<Double> ready, List<Double> coldReady) {
    }

    public static void main(String[] args) throws Exception {
        List<Tree> trees = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String[] kv = args[i].split("=", 2);
            trees.add(new Tree(kv[0], Path.of(kv[1]), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>(), new ArrayList<>()));
        }
        Path results = Path.of(args[2]);
        Path work = Files.createTempDirectory("prefork-startup-ab");
        if (!EXTRA.isEmpty()) {  // e.g. --user nobody: that user's workers must reach the cache in it
            Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try {
            for (Tree t : trees) {
                PORTS.put(t.name(), freePort());  // each tree keeps its command line, port included, as a server does
                round(t, work, false);  // untimed: trains each tree's class archive
                round(t, work, false);  // and starts with it, so the command written down for the next start has it
            }
            for (int r = 0; r < ROUNDS; r++) {
                for (Tree t : r % 2 == 0 ? trees : List.of(trees.get(1), trees.get(0))) {
                    round(t, work, true);
                }
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        StringBuilder md = new StringBuilder("| figure | " + trees.get(0).name() + " | " + trees.get(1).name()
                + " | difference |\n|---|---:|---:|---:|\n");
        Map<String, Object> json = new LinkedHashMap<>();
        row(md, json, "supervisor start -> first 200, median of " + ROUNDS, trees, Tree::firstOk);
        row(md, json, "worker spawn -> BOOTING in a rolling restart, median of " + trees.get(0).booting().size(), trees,
                Tree::booting);
        row(md, json, "worker spawn -> BOOTING at the supervisor's start, median of "
                + trees.get(0).coldBooting().size(), trees, Tree::coldBooting);
        row(md, json, "worker spawn -> READY in a rolling restart, median of " + trees.get(0).ready().size(), trees,
                Tree::ready);
        row(md, json, "worker spawn -> READY at the supervisor's start, median of " + trees.get(0).coldReady().size(),
                trees, Tree::coldReady);
        System.out.print(md);
        Files.createDirectories(results);
        Path out = results.resolve("startup-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
        Files.writeString(out, json.toString() + "\n");
        System.err.println("raw figures: " + out);
    }

    static void row(StringBuilder md, Map<String, Object> json, String what, List<Tree> trees,
            java.util.function.Function<Tree, List<Double>> figures) {
        double a = median(figures.apply(trees.get(0)));
        double b = median(figures.apply(trees.get(1)));
        md.append(String.format("| %s | %.0f ms | %.0f ms | %+.0f ms |%n", what, a, b, b - a));
        for (Tree t : trees) {
            json.put(what + " / " + t.name(), figures.apply(t).stream().map(x -> Math.round(x * 10) / 10.0).toList());
        }
    }

    private static final Map<String, Integer> PORTS = new HashMap<>();

    static void round(Tree t, Path work, boolean timed) throws Exception {
        int port = PORTS.get(t.name());
        Path log = work.resolve("supervisor.log");
        List<String> cmd = new ArrayList<>(List.of(t.home().resolve("scripts/prefork").toString(), "-w", "2", "-b", "127.0.0.1:" + port,
                "--ctl-socket", work.resolve("ctl.sock").toString(), "--cache-dir", work.resolve("cache-" + t.name().hashCode()).toString()));
        cmd.addAll(EXTRA);
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            double firstOk = untilFirst200(port, start);
            awaitLog(log, Pattern.compile("all 2 workers are READY"), 1);
            if (!timed) {
                awaitLog(log, Pattern.compile("class archive (ready|.*valid)"), 1);
            }
            for (int roll = 1; roll <= 2; roll++) {
                Runtime.getRuntime().exec(new String[] {"kill", "-HUP", Long.toString(p.pid())}).waitFor();
                awaitLog(log, Pattern.compile("rolling restart done"), roll);
            }
            if (timed) {
                t.firstOk().add(firstOk);
                String text = Files.readString(log);
                List<Double> spawns = spawnTo(BOOTING, text);
                t.coldBooting().addAll(spawns.subList(0, 2));
                t.booting().addAll(spawns.subList(2, 6));
                List<Double> ready = spawnTo(READY, text);
                t.coldReady().addAll(ready.subList(0, 2));
                t.ready().addAll(ready.subList(2, 6));
            }
        } finally {
            p.destroy();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /** Each worker's spawn -> {@code state} (BOOTING, READY), in ms, from the log's timestamps. */
    static List<Double> spawnTo(Pattern state, String log) {
        Map<String, Instant> started = new HashMap<>();
        Matcher m = STARTED.matcher(log);
        while (m.find()) {
            started.put(m.group(2), Instant.parse(m.group(1)));
        }
        List<Double> ms = new ArrayList<>();
        m = state.matcher(log);
        while (m.find()) {
            Instant s = started.get(m.group(2));
            if (s != null) {
                ms.add(java.time.Duration.between(s, Instant.parse(m.group(1))).toNanos() / 1e6);
            }
        }
        if (ms.size() != 6) {
            throw new IllegalStateException("expected 6 spawns (2 at start, 2 in each roll), read " + ms.size() + ":\n" + log);
        }
        return ms;
    }

    static void awaitLog(Path log, Pattern p, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            Matcher m = p.matcher(Files.readString(log));
            int n = 0;
            while (m.find()) {
                n++;
            }
            if (n >= count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no '" + p + "' in the log within 120 s:\n" + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    static double untilFirst200(int port, long start) throws Exception {
        long deadline = start + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                s.setSoTimeout(5000);
                s.getOutputStream().write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] head = s.getInputStream().readNBytes(12);
                if (new String(head, StandardCharsets.US_ASCII).matches("HTTP/1\\.[01] 200")) {
                    return (System.nanoTime() - start) / 1e6;
                }
            } catch (IOException e) {
                Thread.sleep(5);
            }
        }
        throw new IllegalStateException("no 200 on port " + port + " within 60 s");
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
