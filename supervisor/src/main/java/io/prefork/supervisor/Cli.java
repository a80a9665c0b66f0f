package io.prefork.supervisor;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** The command line, with gunicorn's names where gunicorn has one. */
public final class Cli {
    public static final String DEFAULT_APP = "io.prefork.examples.HelloApp";
    public static final String DEFAULT_BIND = "127.0.0.1:8080";

    /** The parse result: a config to run, or a request for help or the version. */
    public record Parsed(Config config, boolean help, boolean version) {
    }

    private Cli() {
    }

    static Options options() {
        Options o = new Options();
        o.addOption(Option.builder("w").longOpt("workers").hasArg().argName("N")
                .desc("number of worker JVMs (default: the number of CPUs)").build());
        o.addOption(Option.builder("b").longOpt("bind").hasArg().argName("ADDR")
                .desc("HOST:PORT, [IPV6]:PORT or unix:PATH; repeatable (default " + DEFAULT_BIND + ")").build());
        o.addOption(Option.builder().longOpt("app").hasArg().argName("CLASS")
                .desc("the worker's main class (default " + DEFAULT_APP + ")").build());
        o.addOption(Option.builder().longOpt("app-classpath").hasArg().argName("CP")
                .desc("the app's classpath (default: the examples jar)").build());
        o.addOption(Option.builder().longOpt("java").hasArg().argName("PATH")
                .desc("java executable for the workers (default: the supervisor's)").build());
        o.addOption(Option.builder().longOpt("jvm-opt").hasArg().argName("OPT")
                .desc("an option for the worker JVMs, e.g. --jvm-opt=-Xmx256m; repeatable").build());
        o.addOption(Option.builder().longOpt("backlog").hasArg().argName("N")
                .desc("listen backlog (default 2048)").build());
        o.addOption(Option.builder().longOpt("graceful-timeout").hasArg().argName("SECONDS")
                .desc("how long workers may drain on a graceful stop before SIGKILL (default 30)").build());
        o.addOption(Option.builder().longOpt("boot-timeout").hasArg().argName("SECONDS")
                .desc("how long a new worker may take to become READY (default 60)").build());
        o.addOption(Option.builder().longOpt("ready").hasArg().argName("MODE")
                .desc("auto: READY once the app accepts (default); app: READY when the app calls Prefork.ready()").build());
        o.addOption(Option.builder().longOpt("pid").hasArg().argName("FILE").desc("write the supervisor's pid here").build());
        o.addOption(Option.builder("h").longOpt("help").desc("show this help").build());
        o.addOption(Option.builder().longOpt("version").desc("show the version").build());
        return o;
    }

    public static void printHelp(PrintWriter out) {
        new HelpFormatter().printHelp(out, 100, "prefork [options] [-- app args...]",
                "Runs N worker JVMs on listening sockets that the supervisor binds and keeps.\n\n",
                options(), 2, 4, "\nSignals: TERM graceful stop, INT fast stop.");
        out.flush();
    }

    public static Parsed parse(String[] args) throws UsageException {
        int dashDash = Arrays.asList(args).indexOf("--");
        String[] own = dashDash < 0 ? args : Arrays.copyOfRange(args, 0, dashDash);
        List<String> appArgs = dashDash < 0 ? List.of() : List.of(Arrays.copyOfRange(args, dashDash + 1, args.length));
        CommandLine cl;
        try {
            cl = new DefaultParser().parse(options(), own);
        } catch (ParseException e) {
            throw new UsageException(e.getMessage() + " (see --help)");
        }
        if (!cl.getArgList().isEmpty()) {
            throw new UsageException("unexpected argument '" + cl.getArgList().get(0) + "' (app arguments go after --)");
        }
        if (cl.hasOption("help") || cl.hasOption("version")) {
            return new Parsed(null, cl.hasOption("help"), cl.hasOption("version"));
        }
        for (String single : List.of("workers", "app", "app-classpath", "java", "backlog", "graceful-timeout",
                "boot-timeout", "ready", "pid")) {
            String[] values = cl.getOptionValues(single);
            if (values != null && values.length > 1) {
                throw new UsageException("--" + single + " given more than once");
            }
        }
        List<BindAddress> binds = new ArrayList<>();
        for (String b : cl.getOptionValues("bind") == null ? new String[] {DEFAULT_BIND} : cl.getOptionValues("bind")) {
            binds.add(BindAddress.parse(b));
        }
        String readyMode = cl.getOptionValue("ready", "auto");
        if (!readyMode.equals("auto") && !readyMode.equals("app")) {
            throw new UsageException("--ready must be auto or app, got '" + readyMode + "'");
        }
        Config config = new Config(
                intOption(cl, "workers", Runtime.getRuntime().availableProcessors(), 1, 1024),
                binds,
                cl.getOptionValue("app", DEFAULT_APP),
                appClasspath(cl.getOptionValue("app-classpath")),
                javaExecutable(cl.getOptionValue("java")),
                cl.getOptionValues("jvm-opt") == null ? List.of() : List.of(cl.getOptionValues("jvm-opt")),
                intOption(cl, "backlog", 2048, 1, 65535),
                seconds(cl, "graceful-timeout", 30, false),
                seconds(cl, "boot-timeout", 60, true),
                cl.hasOption("pid") ? Path.of(cl.getOptionValue("pid")).toAbsolutePath() : null,
                readyMode,
                appArgs);
        return new Parsed(config, false, false);
    }

    private static int intOption(CommandLine cl, String name, int dflt, int min, int max) throws UsageException {
        String value = cl.getOptionValue(name);
        if (value == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // one message below
        }
        throw new UsageException("--" + name + " must be a whole number from " + min + " to " + max + ", got '" + value + "'");
    }

    private static Duration seconds(CommandLine cl, String name, int dflt, boolean positive) throws UsageException {
        String value = cl.getOptionValue(name);
        if (value == null) {
            return Duration.ofSeconds(dflt);
        }
        try {
            double s = Double.parseDouble(value.trim());
            if ((positive ? s > 0 : s >= 0) && s <= 86_400 && !Double.isNaN(s)) {
                return Duration.ofMillis(Math.round(s * 1000));
            }
        } catch (NumberFormatException e) {
            // one message below
        }
        throw new UsageException("--" + name + " must be a number of seconds" + (positive ? " above 0" : "")
                + " (at most 86400), got '" + value + "'");
    }

    private static String javaExecutable(String given) throws UsageException {
        if (given == null) {
            return Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }
        if (!Files.isExecutable(Path.of(given))) {
            throw new UsageException("--java " + given + ": not an executable file");
        }
        return given;
    }

    private static String appClasspath(String given) throws UsageException {
        if (given != null) {
            if (given.isBlank()) {
                throw new UsageException("--app-classpath is empty");
            }
            return given;
        }
        Path example = Defaults.exampleJar();
        if (example == null || !Files.isRegularFile(example)) {
            throw new UsageException("no --app-classpath given and the example app is not built"
                    + (example == null ? "" : " (expected " + example + ")") + "; run: mvn -B -DskipTests package");
        }
        return example.toString();
    }
}
