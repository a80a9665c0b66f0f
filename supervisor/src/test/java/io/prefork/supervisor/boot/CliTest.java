package io.prefork.supervisor.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Flag;
import io.prefork.supervisor.UsageException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CliTest {
    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path jars;
    /** An app jar that holds the classes these tests name: the CLI checks the --app class is there. */
    static String JAR;

    @org.junit.jupiter.api.BeforeAll
    static void appJar() throws Exception {
        java.nio.file.Path jar = jars.resolve("x.jar");
        try (var out = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar))) {
            for (String entry : List.of("a/B.class", "io/prefork/examples/HelloApp.class")) {
                out.putNextEntry(new java.util.jar.JarEntry(entry));
                out.closeEntry();
            }
        }
        JAR = jar.toString();
    }
    private static Config parse(String... args) throws UsageException {
        return Cli.parse(args).config();
    }

    private static String error(String... args) {
        return assertThrows(UsageException.class, () -> Cli.parse(args)).getMessage();
    }

    @Test
    void readsEveryOption() throws Exception {
        Config c = parse("-w", "3", "-b", "127.0.0.1:0", "--bind", "unix:/tmp/x.sock", "--app", "a.B",
                "--app-classpath", JAR, "--jvm-opt=-Xmx64m", "--jvm-opt", "-Dk=v", "--backlog", "16",
                "--graceful-timeout", "2.5", "--boot-timeout", "9", "--ready", "app", "--", "one", "--two");
        assertEquals(3, c.workers());
        assertEquals(2, c.binds().size());
        assertEquals("a.B", c.appClass());
        assertEquals(JAR, c.appClasspath());
        assertEquals(List.of("-Xmx64m", "-Dk=v"), c.jvmOpts());
        assertEquals(16, c.backlog());
        assertEquals(Duration.ofMillis(2500), c.gracefulTimeout());
        assertEquals(Duration.ofSeconds(9), c.bootTimeout());
        assertEquals("app", c.readyMode());
        assertEquals(List.of("one", "--two"), c.appArgs());
    }

    @Test
    void readsTheHealthAndStopOptions() throws Exception {
        Config c = parse("--app-classpath", JAR, "--admin-bind", "127.0.0.1:9901", "--min-ready", "2",
                "--lame-duck", "10");
        assertEquals("127.0.0.1:9901", c.adminBind().toString());
        assertEquals(2, c.minReady());
        assertEquals(Duration.ofSeconds(10), c.lameDuck());
        Config defaults = parse("--app-classpath", JAR);
        assertEquals(null, defaults.adminBind(), "off by default");
        assertEquals(1, defaults.minReady());
        assertEquals(Duration.ZERO, defaults.lameDuck());
        assertEquals("--admin-bind unix:@x: use a unix socket path, not an abstract name",
                error("--app-classpath", JAR, "--admin-bind", "unix:@x"));
        assertEquals("--min-ready must be a whole number from 1 to 1024, got '0'",
                error("--app-classpath", JAR, "--min-ready", "0"));
        assertEquals("--lame-duck must be a number of seconds (at most 86400), got '-1'",
                error("--app-classpath", JAR, "--lame-duck", "-1"));
    }

    @Test
    void defaultsLikeGunicorn() throws Exception {
        Config c = parse("--app-classpath", JAR);
        assertEquals(Runtime.getRuntime().availableProcessors(), c.workers());
        assertEquals("127.0.0.1:8080", c.binds().get(0).toString());
        assertEquals(Flag.APP.defaultValue(), c.appClass());
        assertEquals(2048, c.backlog());
        assertEquals(Duration.ofSeconds(30), c.gracefulTimeout());
        assertEquals(Duration.ofSeconds(60), c.bootTimeout());
        assertEquals("auto", c.readyMode());
    }

    @Test
    void badInputIsOneClearLine() {
        assertEquals("Unrecognized option: --frobnicate (see --help)", error("--frobnicate"));
        assertEquals("--workers must be a whole number from 1 to 1024, got '0'", error("-w", "0"));
        assertEquals("--workers must be a whole number from 1 to 1024, got 'many'", error("-w", "many"));
        assertEquals("--backlog must be a whole number from 1 to 65535, got '0'", error("--backlog", "0", "--app-classpath", JAR));
        assertTrue(error("--boot-timeout", "0").startsWith("--boot-timeout must be a number of seconds above 0"));
        assertTrue(error("--graceful-timeout", "-1").startsWith("--graceful-timeout must be a number of seconds"));
        assertEquals("--ready must be auto or app, got 'soon'", error("--ready", "soon", "--app-classpath", JAR));
        assertEquals("--balance must be shared or reuseport, got 'rr'", error("--balance", "rr", "--app-classpath", JAR));
        assertEquals("--workers given more than once", error("-w", "1", "-w", "2"));
        assertEquals("unexpected argument 'stray' (app arguments go after --)", error("stray"));
        assertEquals("--java /no/such/java: not an executable file", error("--java", "/no/such/java", "--app-classpath", JAR));
        assertEquals("Missing argument for option: w (see --help)", error("-w"));
        assertEquals("--app no.Such: no such class on the app classpath (" + JAR + ")",
                error("--app", "no.Such", "--app-classpath", JAR));
        assertEquals("--app-classpath entry /no/such.jar does not exist", error("--app-classpath", JAR + ":/no/such.jar"));
        assertEquals("--app-classpath entry /no/such/dir/* does not exist", error("--app-classpath", "/no/such/dir/*"));
    }

    @Test
    void aKeyGivenTwiceInTheConfigFileIsAnError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("p.properties"), "workers=2\nworkers=3\n");
        assertEquals("config file " + file + ": key 'workers' given more than once",
                error("--config", file.toString(), "--app-classpath", JAR));
    }

    @Test
    void theConfigFileFillsWhatTheCommandLineLeavesOut(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("prefork.properties");
        java.nio.file.Files.writeString(file, "workers=2\nbind=127.0.0.1:0\ngraceful-timeout=5\nboot-timeout=1\n");
        Config c = parse("--config", file.toString(), "--boot-timeout", "90", "--worker-start", "plain", "--app-classpath", JAR);
        assertEquals(2, c.workers());
        assertEquals(Duration.ofSeconds(5), c.gracefulTimeout());
        assertEquals(Duration.ofSeconds(90), c.bootTimeout(), "the command line wins");
        assertEquals("127.0.0.1:0", c.binds().get(0).toString());
    }

    @Test
    void helpAndVersionNeedNothingElse() throws Exception {
        assertTrue(Cli.parse(new String[] {"--help"}).help());
        assertTrue(Cli.parse(new String[] {"--version"}).version());
    }

    /** Where the supervisor's own jffi comes from, read before the parse: the --cache-dir the parse will give. */
    @Test
    void theCacheDirIsKnownBeforeTheParseUnlessAConfigFileMaySetIt() throws Exception {
        java.nio.file.Path byDefault = java.nio.file.Path.of(parse("--app", "a.B", "--app-classpath", JAR).cacheDir().toString());
        assertEquals(byDefault, CacheDir.beforeParsing(new String[] {"-w", "2"}));
        assertEquals(java.nio.file.Path.of("/x/c"), CacheDir.beforeParsing(new String[] {"-w", "2", "--cache-dir", "/x/c"}));
        assertEquals(java.nio.file.Path.of("/x/c"), CacheDir.beforeParsing(new String[] {"--cache-dir=/x/c", "-w", "2"}));
        assertEquals(byDefault, CacheDir.beforeParsing(new String[] {"--", "--cache-dir", "/app/arg"}),
                "after --, the app's arguments");
        assertEquals(null, CacheDir.beforeParsing(new String[] {"--config", "prefork.conf"}));
        assertEquals(null, CacheDir.beforeParsing(new String[] {"--config=prefork.conf", "--cache-dir", "/x/c"}));
        assertEquals(null, CacheDir.beforeParsing(new String[] {"--cache-dir", "a\0b"}),
                "a path the parse will refuse");
    }

    /** Root with --user: the workers run as that user and must read the cache, which root's home (0700) forbids. */
    @Test
    void rootWithUserKeepsTheCacheWhereTheWorkersCanReadIt() throws Exception {
        boolean root = (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid") == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(root, "--user needs root");
        // nobody must read the app's jar (the parse checks): its directory is the test's, 0700
        java.nio.file.Files.setPosixFilePermissions(jars, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        java.nio.file.Path forUser = parse("--app", "a.B", "--app-classpath", JAR, "--user", "nobody").cacheDir();
        assertEquals(java.nio.file.Path.of("/var/cache/prefork"), forUser);
        assertEquals(forUser, CacheDir.beforeParsing(new String[] {"--user", "nobody"}));
        assertEquals(forUser, CacheDir.beforeParsing(new String[] {"--group=nogroup"}));
        assertEquals(java.nio.file.Path.of("/x/c"), CacheDir.beforeParsing(new String[] {"--user", "nobody", "--cache-dir", "/x/c"}));
        assertEquals(java.nio.file.Path.of("/x/c"), parse("--app", "a.B", "--app-classpath", JAR, "--user", "nobody",
                "--cache-dir", "/x/c").cacheDir());
    }
}
