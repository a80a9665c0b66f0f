package io.prefork.supervisor.boot;

import io.prefork.supervisor.AdminCommand;
import io.prefork.supervisor.Flag;
import io.prefork.supervisor.IoReason;
import io.prefork.supervisor.UsageException;
import io.prefork.supervisor.launch.InstallLayout;
import io.prefork.supervisor.launch.RunAs;
import io.prefork.supervisor.launch.WorkerStart;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.supervisor.net.Listeners;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** The command line, with gunicorn's names where gunicorn has one. */
public final class Cli {
    /** Options that may be given more than once; in a config file, values are split as noted. */
    private static final List<String> REPEATABLE = List.of("bind", "jvm-opt");

    /** The parse result: a config to run, or a request for help or the version. */
    public record Parsed(Config config, boolean help, boolean version) {
    }

    private Cli() {
    }

    /** The commons-cli options, made from {@link Flag}: one table for parsing, help and defaults. */
    static Options options() {
        Options o = new Options();
        for (Flag flag : Flag.values()) {
            Option.Builder b = Option.builder(flag.shortName()).longOpt(flag.longName());
            if (flag.argName() != null) {
                b.hasArg().argName(flag.argName());
            }
            String shown = flag.shownDefault();
            o.addOption(b.desc(flag.description() + (shown == null ? "" : " (default " + shown + ")")).build());
        }
        return o;
    }

    public static void printHelp(PrintWriter out) {
        new HelpFormatter().printHelp(out, 100, "prefork [options] [-- app args...]",
                "Runs N worker JVMs on listening sockets that the supervisor binds and keeps.\n\n",
                options(), 2, 4, "\nSignals: TERM graceful stop, INT fast stop, HUP rolling restart, TTIN/TTOU one worker"
                        + " more/fewer, WINCH stop the workers, USR1 reopen the log file, USR2 upgrade the supervisor.\n"
                        + "Admin: prefork ctl [--socket PATH] " + AdminCommand.usage(" | "));
        out.flush();
    }

    public static Parsed parse(String[] args) throws UsageException {
        try {
            return parseArgs(args);
        } catch (java.nio.file.InvalidPathException e) {  // a NUL in a path (a config file can hold one)
            throw new UsageException("not a usable path: '" + e.getInput() + "' (" + e.getReason() + ")");
        }
    }

    private static Parsed parseArgs(String[] args) throws UsageException {
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
        Values v = new Values(cl, configFile(cl.getOptionValue("config")));
        for (Option option : options().getOptions()) {
            String[] values = cl.getOptionValues(option.getLongOpt());
            if (values != null && values.length > 1 && !REPEATABLE.contains(option.getLongOpt())) {
                throw new UsageException("--" + option.getLongOpt() + " given more than once");
            }
        }
        List<BindAddress> binds = new ArrayList<>();
        for (String b : v.all("bind", ",", List.of(Flag.BIND.defaultValue()))) {
            binds.add(BindAddress.parse(b.trim()));
        }
        String readyMode = v.get(Flag.READY);
        if (!readyMode.equals("auto") && !readyMode.equals("app")) {
            throw new UsageException("--ready must be auto or app, got '" + readyMode + "'");
        }
        String ctl = v.get("ctl-socket", Flag.CTL_SOCKET.defaultValue());
        BindAddress.checkUnixPath("--ctl-socket", Path.of(ctl).toAbsolutePath().toString());
        String start = v.get(Flag.WORKER_START);
        if (!start.equals("fast") && !start.equals("plain") && !start.equals("trained")) {
            throw new UsageException("--worker-start must be fast, trained or plain, got '" + start + "'");
        }
        String share = v.get(Flag.JVM_SHARE);
        if (!share.equals("auto") && !share.equals("off")) {
            throw new UsageException("--jvm-share must be auto or off, got '" + share + "'");
        }
        String balance = v.get(Flag.BALANCE);
        if (!balance.equals("shared") && !balance.equals("reuseport")) {
            throw new UsageException("--balance must be shared or reuseport, got '" + balance + "'");
        }
        List<String> workerCommand = workerCommand(v.get("worker-command", null));
        // A worker command is not a JVM: no app class to check, no class archive to train.
        String appJar = v.get("app-jar", null);
        if (appJar != null && v.get("app-classpath", null) != null) {
            throw new UsageException("--app-jar and --app-classpath exclude each other: the jar is the classpath");
        }
        String classpath = !workerCommand.isEmpty() ? "" : appJar != null ? appJar : appClasspath(v.get("app-classpath", null));
        String app = v.get("app", appJar != null && workerCommand.isEmpty() ? AppJar.mainClass(appJar) : Flag.APP.defaultValue());
        RunAs runAs = RunAs.resolve(v.get("user", null), v.get("group", null));
        String java = javaExecutable(v.get("java", null));
        if (runAs != null && workerCommand.isEmpty()) {  // one line now, not five failed boots as that user
            String unusable = runAs.unusable(java, classpath);
            if (unusable != null) {
                throw new UsageException("--user " + runAs + " cannot " + unusable + ": the workers run as that user");
            }
        }
        Config config = new Config(
                (int) number(v, Flag.WORKERS, Runtime.getRuntime().availableProcessors(), 1, 1024),
                binds,
                workerCommand.isEmpty() ? appClass(app, classpath) : String.join(" ", workerCommand),
                classpath,
                java,
                v.all("jvm-opt", "\\s+", List.of()),
                (int) number(v, Flag.BACKLOG, 1, 65535),
                balance.equals("shared") ? Listeners.Balance.SHARED : Listeners.Balance.REUSEPORT,
                seconds(v, Flag.GRACEFUL_TIMEOUT, false),
                seconds(v, Flag.BOOT_TIMEOUT, true),
                (int) number(v, Flag.BOOT_NICE, 0, 19),
                seconds(v, Flag.TIMEOUT, false),
                (int) number(v, Flag.MAX_SURGE, 1, 1024),
                (int) number(v, Flag.SPARES, 0, 64),
                seconds(v, Flag.SPARE_DELAY, false),
                number(v, Flag.MAX_REQUESTS, 0, Long.MAX_VALUE),
                number(v, Flag.MAX_REQUESTS_JITTER, 0, Integer.MAX_VALUE),
                number(v, Flag.MAX_WORKER_RSS, 0, 1L << 30),
                path(v.get("pid", null)),
                path(ctl),
                v.get("ctl-socket", null) != null,
                group(v.get("admin-group", null), "--admin-group"),
                path(v.get("log-file", null)),
                readyMode,
                workerCommand.isEmpty() ? WorkerStart.valueOf(start.toUpperCase(Locale.ROOT)) : WorkerStart.PLAIN,
                path(v.get("cache-dir", CacheDir.byDefault(v.get("user", null) != null || v.get("group", null) != null))),
                adminBind(v.get("admin-bind", null)),
                workerCommand,
                (int) number(v, Flag.MIN_READY, 1, 1024),
                seconds(v, Flag.LAME_DUCK, false),
                (int) number(v, Flag.MAX_RESTARTS, 0, 100_000),
                runAs,
                seconds(v, Flag.RESTART_WINDOW, true),
                seconds(v, Flag.STALL_TIMEOUT, false),
                share.equals("auto"),
                (int) number(v, Flag.WARMUP_REQUESTS, 0, 100_000),
                warmupPath(v.get(Flag.WARMUP_PATH)),
                (int) number(v, Flag.TRAINING_REQUESTS, 0, 100_000),
                appArgs);
        return new Parsed(config, false, false);
    }

    /** Looks an option up on the command line first, then in the config file. */
    private static final class Values {
        private final CommandLine cl;
        private final Properties file;

        Values(CommandLine cl, Properties file) {
            this.cl = cl;
            this.file = file;
        }

        /** The option's value, or its default from the table. */
        String get(Flag flag) {
            return get(flag.longName(), flag.defaultValue());
        }

        String get(String name, String dflt) {
            if (cl.hasOption(name)) {
                return cl.getOptionValue(name);
            }
            return file.getProperty(name, dflt);
        }

        /** A repeatable option: every command-line value, else the file's value split on {@code separator}. */
        List<String> all(String name, String separator, List<String> dflt) {
            if (cl.hasOption(name)) {
                return List.of(cl.getOptionValues(name));
            }
            String value = file.getProperty(name);
            if (value == null || value.isBlank()) {
                return dflt;
            }
            return List.of(value.trim().split(separator));
        }
    }

    /** Properties that refuse a key given twice: in a config file that is a mistake, not an override. */
    private static final class StrictProperties extends Properties {
        private static final long serialVersionUID = 1L;
        private String duplicate;

        @Override
        public synchronized Object put(Object key, Object value) {
            if (containsKey(key) && duplicate == null) {
                duplicate = key.toString();
            }
            return super.put(key, value);
        }
    }

    private static Properties configFile(String name) throws UsageException {
        StrictProperties p = new StrictProperties();
        if (name == null) {
            return p;
        }
        try (Reader in = Files.newBufferedReader(Path.of(name), StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException("cannot read config file " + name + ": "
                    + (e instanceof IOException io ? IoReason.of(io) : e.getMessage()));
        }
        if (p.duplicate != null) {
            throw new UsageException("config file " + name + ": key '" + p.duplicate + "' given more than once");
        }
        for (String key : p.stringPropertyNames()) {
            Option option = options().getOption(key);
            if (option == null || key.length() == 1 || NOT_IN_FILE.contains(key)) {
                throw new UsageException("config file " + name + ": unknown key '" + key + "'");
            }
        }
        return p;
    }

    private static final List<String> NOT_IN_FILE = List.of("config", "help", "version");

    private static Path path(String name) {
        return name == null ? null : Path.of(name).toAbsolutePath();
    }

    private static long number(Values v, Flag flag, long min, long max) throws UsageException {
        return number(v, flag, Long.parseLong(flag.defaultValue()), min, max);
    }

    /** A whole number within [min, max]; {@code dflt} when not given (a computed default: the CPUs). */
    private static long number(Values v, Flag flag, long dflt, long min, long max) throws UsageException {
        String name = flag.longName();
        String value = v.get(name, null);
        if (value == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // one message below
        }
        throw new UsageException("--" + name + " must be a whole number from " + min + " to "
                + (max == Long.MAX_VALUE ? "any" : Long.toString(max)) + ", got '" + value + "'");
    }

    private static Duration seconds(Values v, Flag flag, boolean positive) throws UsageException {
        String name = flag.longName();
        String value = v.get(name, flag.defaultValue());
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

    /** A group that exists (by name), or null when not given. */
    static String group(String name, String option) throws UsageException {
        if (name == null) {
            return null;
        }
        try {
            java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(name);
            return name;
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new UsageException(option + " " + name + ": no such group");
        } catch (IOException e) {
            throw new UsageException(option + " " + name + ": cannot look the group up: " + e.getMessage());
        }
    }

    /** A path a GET can ask for: starts with a slash, no spaces. */
    private static String warmupPath(String given) throws UsageException {
        if (!given.startsWith("/") || given.chars().anyMatch(c -> c <= ' ' || c == 127)) {
            throw new UsageException("--warmup-path must be a path starting with /, with no spaces, got '" + given + "'");
        }
        return given;
    }

    private static BindAddress adminBind(String given) throws UsageException {
        if (given == null) {
            return null;
        }
        BindAddress bind = BindAddress.parse(given);
        if (bind.isAbstract()) {
            throw new UsageException("--admin-bind " + given + ": use a unix socket path, not an abstract name");
        }
        return bind;
    }

    /** The app class must be on the app classpath: better one line now than five failed boots later. */
    private static String appClass(String name, String classpath) throws UsageException {
        if (!AppClasspath.contains(classpath, name)) {
            throw new UsageException("--app " + name + ": no such class on the app classpath (" + classpath + ")");
        }
        return name;
    }

    /** {@code --worker-command}: its first word must be a program that exists (a path, or on PATH). */
    private static List<String> workerCommand(String given) throws UsageException {
        if (given == null) {
            return List.of();
        }
        List<String> words = List.of(given.trim().split("\\s+"));
        if (words.get(0).isEmpty()) {
            throw new UsageException("--worker-command is empty");
        }
        String program = words.get(0);
        boolean found = program.contains("/") ? Files.isExecutable(Path.of(program))
                : java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
        if (!found) {
            throw new UsageException("--worker-command: " + program + " is not an executable program");
        }
        return words;
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
            for (String entry : given.split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry.endsWith("/*") || entry.equals("*") ? entry.substring(0, entry.length() - 1) : entry);
                if (!entry.isEmpty() && !Files.exists(p.toString().isEmpty() ? Path.of(".") : p)) {
                    throw new UsageException("--app-classpath entry " + entry + " does not exist");
                }
            }
            return given;
        }
        Path example = InstallLayout.exampleJar();
        if (example == null || !Files.isRegularFile(example)) {
            throw new UsageException("no --app-classpath given and the example app is not built"
                    + (example == null ? "" : " (expected " + example + ")") + "; run: mvn -B -DskipTests package");
        }
        return example.toString();
    }
}
