package io.prefork.supervisor.boot;

import io.prefork.posix.JnrPosix;
import io.prefork.posix.Processes;
import io.prefork.protocol.ControlSocket;
import io.prefork.supervisor.UsageException;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.supervisor.net.Listener;
import io.prefork.unix.FdPassing;
import io.prefork.unix.Fds;
import io.prefork.unix.Native;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The training run behind the supervisor's own class archive: scripts/prefork runs it once per set
 * of jars and JDK with -XX:ArchiveClassesAtExit, then starts every supervisor from that archive
 * (JDK 13+ AppCDS), which takes about 100 ms off the supervisor's start (BENCHMARKS.md §7). It walks
 * the start without side effects: parses a command line, binds a TCP listener on port 0, makes Unix
 * sockets (jnr-unixsocket), loads jnr-posix and passes the listener's fd with it, then loads (without
 * initialising) every class of prefork's own jars.
 */
public final class SupervisorArchiveTraining {
    private SupervisorArchiveTraining() {
    }

    /** How long the training may take before it gives up: it exits 1, and scripts/prefork keeps no archive. */
    private static final long BOUND_MS = 60_000;

    public static void main(String[] args) throws Exception {
        Thread bound = new Thread(() -> {
            try {
                Thread.sleep(BOUND_MS);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(1);  // no exit hooks; the script removes whatever the JVM wrote
        }, "training-bound");
        bound.setDaemon(true);
        bound.start();
        try {
            Cli.parse(new String[] {"-w", "1", "-b", "127.0.0.1:0"});
        } catch (UsageException e) {
            // no example app here (a bare installation): the parser's classes are loaded all the same
        }
        Native.load();
        try (Listener listener = Listener.open(BindAddress.parse("127.0.0.1:0"), 16, false)) {
            UnixSockets.warmUp();
            JnrPosix.awaitLoaded();
            Processes.kill(ProcessHandle.current().pid(), 0);
            UnixSocketChannel[] pair = UnixSocketChannel.pair();
            try {
                FdPassing.INSTANCE.sendWithFds(pair[0].getFD(), "x\n".getBytes(StandardCharsets.US_ASCII),
                        new int[] {listener.fd()});
                List<Integer> fds = new ArrayList<>();
                FdPassing.INSTANCE.receive(pair[1].getFD(), new byte[8], fds);
                for (int fd : fds) {
                    Fds.close(fd);
                }
            } finally {
                pair[0].close();
                pair[1].close();
            }
        }
        loadEveryClassOf(Main.class);
        loadEveryClassOf(ControlSocket.class);
    }

    private static void loadEveryClassOf(Class<?> inJar) throws IOException, URISyntaxException {
        Path jar = Path.of(inJar.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!jar.toString().endsWith(".jar")) {
            return;
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements();) {
                String name = e.nextElement().getName();
                if (name.endsWith(".class") && !name.contains("-")) {
                    try {
                        Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false,
                                SupervisorArchiveTraining.class.getClassLoader());
                    } catch (ClassNotFoundException | LinkageError ignored) {
                        // a class that needs what is not on this classpath: not the supervisor's
                    }
                }
            }
        }
    }
}
