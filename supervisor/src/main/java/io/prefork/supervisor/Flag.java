package io.prefork.supervisor;

import io.prefork.protocol.WorkerEnvironment;
import java.time.Duration;
import java.util.Locale;

/**
 * The command line's options, each with its default written once: the CLI parses with this table,
 * the help text prints it, {@link Settings} starts from it, and a test holds the README's option
 * table against it. gunicorn's names where gunicorn has one.
 */
public enum Flag {
    WORKERS("w", "N", null, "number of CPUs", "number of worker JVMs (1-1024)"),
    BIND("b", "ADDR", "127.0.0.1:8080", null, "HOST:PORT, [IPV6]:PORT or unix:PATH; repeatable"),
    APP(null, "CLASS", "io.prefork.examples.HelloApp", null, "the worker's main class"),
    APP_CLASSPATH(null, "CP", null, "the examples jar", "the app's classpath"),
    APP_JAR(null, "JAR", null, null,
            "run this executable jar (its Main-Class; a Spring Boot jar too): the app's classpath and class"),
    JAVA(null, "PATH", null, "the supervisor's own java", "java executable for the workers"),
    WORKER_COMMAND(null, "CMD", null, null,
            "run this command (split on spaces) as each worker instead of a JVM: any program that speaks PROTOCOL.md"),
    JVM_OPT(null, "OPT", null, null, "an option for the worker JVMs, e.g. --jvm-opt=-Xmx256m; repeatable"),
    BACKLOG(null, "N", "2048", null, "listen backlog"),
    BALANCE(null, "MODE", "shared", null,
            "shared: one socket, idle workers accept; reuseport: one SO_REUSEPORT socket per worker"),
    GRACEFUL_TIMEOUT(null, "SECONDS", "30", null, "how long workers may drain on a graceful stop before SIGKILL"),
    BOOT_TIMEOUT(null, "SECONDS", "60", null, "how long a new worker may take to become READY"),
    BOOT_NICE(null, "N", "19", null, "a worker JVM that boots while busy workers serve (a roll's or a recycle's"
            + " successor, a spare) runs N nice levels lower (nice 19 at most) until it serves, or a quarter of --boot-timeout at most;"
            + " lifting it back needs CAP_SYS_NICE or LimitNICE, else it is off; 0: off"),
    TIMEOUT(null, "SECONDS", "30", null,
            "kill a READY worker silent (no heartbeat) this long, after a thread dump; 0 turns it off"),
    MAX_SURGE(null, "N", "1", null, "extra workers a rolling restart, a recycle or a stall may boot at once"),
    STALL_TIMEOUT(null, "SECONDS", "1", null, "when connections wait this long in the accept queue while no READY worker"
            + " runs (all frozen or stuck), start successors for them (up to --max-surge) and ask them for thread dumps; 0: never"),
    SPARES(null, "K", "0", null,
            "keep K hot spares: JVMs booted up to Prefork.listeners(), promoted at once when a worker is needed"),
    SPARE_DELAY(null, "SECONDS", "0", null, "a promoted spare serves alone this long before the spare that replaces it"
            + " boots, so that a JVM start does not share the CPUs with its first seconds of traffic; a second crash"
            + " meanwhile finds no spare; 0: once it is READY and has sent a heartbeat"),
    MAX_REQUESTS(null, "N", "0", null, "recycle a worker after about this many requests; 0: never"),
    MAX_REQUESTS_JITTER(null, "N", "0", null, "add 0..N to each worker's --max-requests, so they do not all recycle at once"),
    MAX_WORKER_RSS(null, "MB", "0", null, "recycle a worker whose resident memory goes over this; 0: never"),
    WORKER_START(null, "MODE", "fast", null,
            "fast: workers start from a class archive (AppCDS, or the AOT cache on JDK 24+) trained on first use;"
            + " trained: then (JDK 24+) from an AOT cache a worker recorded from real traffic as it exited; plain: without"),
    WARMUP_REQUESTS(null, "N", "0", null, "before a worker (or spare) takes real traffic, run N requests, "
            + WorkerEnvironment.WARMUP_CLIENTS + " at a time, through the app's warm-up hook (Prefork.onWarmUp), or for an app that takes"
            + " System.inheritedChannel(), over loopback to a private listener; 0: none"),
    WARMUP_PATH(null, "PATH", "/", null, "the path each warm-up request asks for"),
    TRAINING_REQUESTS(null, "N", "1", null, "the class archive's training run (--worker-start fast or trained) serves"
            + " N requests to --warmup-path, never a real one, before it is stopped, so that the archive holds the classes"
            + " a request loads: through the app's warm-up hook, or else on a private loopback listener the app gets as its"
            + " only one (not with a unix socket as the first -b); 0: stopped once it waits for its listeners"),
    JVM_SHARE(null, "MODE", "auto", null, "auto: size each worker JVM (heap, GC and compiler threads) for its share"
            + " of the machine's memory and CPUs, divided among workers and spares, with a small initial heap and"
            + " a periodic trim of the C heap; off: the JVM's own defaults"),
    CACHE_DIR(null, "DIR", null, "$XDG_CACHE_HOME/prefork or ~/.cache/prefork; /var/cache/prefork for root with --user", "where class archives, jnr-ffi's unpacked native stub and the first worker's command (which scripts/prefork starts beside the supervisor next time) are kept"),
    READY(null, "MODE", "auto", null, "auto: READY once the app accepts; app: READY when the app calls Prefork.ready()"),
    PID(null, "FILE", null, null, "write the supervisor's pid here"),
    CTL_SOCKET(null, "PATH", "prefork.ctl", null, "admin socket for 'prefork ctl', in the working directory unless a path"),
    ADMIN_GROUP(null, "GROUP", null, null,
            "members of GROUP may run 'prefork ctl status' and 'metrics' (the admin socket becomes 0660)"),
    LOG_FILE(null, "FILE", null, null, "append the supervisor's and workers' output here instead of stderr; USR1 reopens it"),
    ADMIN_BIND(null, "ADDR", null, "off",
            "serve /livez, /readyz, /status and /metrics over HTTP here: 127.0.0.1:PORT or unix:PATH"),
    MIN_READY(null, "N", "1", null, "/readyz answers 200 while at least N workers are READY"),
    LAME_DUCK(null, "SECONDS", "0", null,
            "on SIGTERM, answer 503 on /readyz and keep serving this long before the graceful stop, which then"
            + " ends idle keep-alive connections"),
    MAX_RESTARTS(null, "N", "0", null,
            "stop, and exit 4, if more than N unplanned worker restarts happen within --restart-window; 0: never"),
    RESTART_WINDOW(null, "SECONDS", "60", null, "the window --max-restarts counts in"),
    USER(null, "NAME", null, null, "run the workers as this user: the supervisor starts as root, binds, and starts each"
            + " worker through setpriv (util-linux), so that it runs as the user from its first instruction"),
    GROUP(null, "NAME", null, null, "run the workers with this group (default: the --user's own group)"),
    CONFIG(null, "FILE", null, null, "a properties file with long option names as keys; the command line wins"),
    HELP("h", null, null, null, "show this help"),
    VERSION(null, null, null, null, "show the version");

    private final String shortName;
    private final String argName;
    private final String dflt;
    private final String shown;
    private final String description;

    /**
     * @param dflt  the value used when the option is not given, as it would be typed; null if none or computed
     * @param shown how the help and the README name a computed default, or null to show {@code dflt}
     */
    Flag(String shortName, String argName, String dflt, String shown, String description) {
        this.shortName = shortName;
        this.argName = argName;
        this.dflt = dflt;
        this.shown = shown;
        this.description = description;
    }

    /** The option's long name, as typed after {@code --} and as a config file's key. */
    public String longName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public String shortName() {
        return shortName;
    }

    /** The argument's name in the help, or null for a switch. */
    public String argName() {
        return argName;
    }

    /** The default as typed, or null when there is none or it is computed at start. */
    public String defaultValue() {
        return dflt;
    }

    /** The default as the help and the README state it; null when there is none. */
    public String shownDefault() {
        return shown != null ? shown : dflt;
    }

    public String description() {
        return description;
    }

    long defaultNumber() {
        return Long.parseLong(dflt);
    }

    Duration defaultSeconds() {
        return Duration.ofSeconds(Long.parseLong(dflt));
    }
}
