package io.prefork.supervisor.launch;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a class archive file is to the JVM that would use it: its key (which worker command it is
 * for), whether the JVM accepts it, and its identity on disk, with a note beside it once the JVM took
 * it (so an accepted file is not checked twice, not even by the next supervisor: the check is a JVM
 * start, 0.1-0.3 s that a cold start would otherwise wait for before its first worker).
 */
final class ArchiveFiles {
    private ArchiveFiles() {
    }

    /**
     * Why the JVM refuses the archive, or null if it takes it: a start with sharing forced on, run
     * after {@code prefix} (--user's setpriv: only the workers' user maps what the workers' user wrote).
     */
    static String refusal(List<String> prefix, List<String> command, boolean aot, Path archive) {
        List<String> options = aot ? List.of("-XX:AOTMode=on", "-XX:AOTCache=" + archive)
                : List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive);
        return runJvm(prefix, command, options, List.of("-version"), 30);
    }

    /**
     * JDK 24+: makes the AOT cache {@code cache} from the configuration a run recorded
     * (-XX:AOTMode=record); null if the JVM wrote it, else why not. The JVM's own one-step way
     * (-XX:AOTCacheOutput) runs this step inside the exiting JVM, in a child that prints six lines
     * into the operator's log, one of them the whole classpath; here its output is read and dropped.
     */
    static String assemble(List<String> prefix, List<String> command, Path configuration, Path cache) {
        if (!Files.exists(configuration)) {
            return "the JVM recorded no AOT configuration (a directory on the classpath?)";
        }
        String failure = runJvm(prefix, command, List.of("-XX:AOTMode=create", "-XX:AOTConfiguration=" + configuration,
                "-XX:AOTCache=" + cache, "-Xlog:aot=off"), List.of(), 300);
        return failure == null && !Files.exists(cache) ? "the JVM wrote no AOT cache" : failure;
    }

    /**
     * Runs {@code java} (after {@code prefix}) with {@code options}, then the workers' own options and
     * classpath (an archive records them), then {@code tail}; null if it exits 0, else its first line of output.
     */
    static String runJvm(List<String> prefix, List<String> command, List<String> options, List<String> tail,
                         int timeoutSeconds) {
        List<String> args = new ArrayList<>(prefix);
        args.add(command.get(0));
        args.addAll(options);
        int cp = command.indexOf("-cp");
        args.addAll(command.subList(1, cp + 2));
        args.addAll(tail);
        try {
            Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
            // Read on another thread: reading here would wait for the output's end, which a JVM that
            // hangs never reaches, and the timeout would never come.
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = p.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return "the JVM did not finish in " + timeoutSeconds + " s";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            String first = out.join().lines().filter(l -> !l.isBlank()).findFirst().orElse("exit " + p.exitValue());
            return first.strip();
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Whether the JVM took {@code file} when this identity of it was made or first checked, by any
     * supervisor: the note {@link #noteAccepted} left beside it. The key already names the JDK build
     * and every input, so what is left to catch is a file changed since, and that has another identity.
     */
    static boolean acceptedBefore(Path file, String identity) {
        try {
            return identity.equals(Files.readString(note(file)).strip());
        } catch (IOException e) {
            return false;
        }
    }

    /** Leaves the note that the JVM took this identity of {@code file}; best effort (a later start checks again). */
    static void noteAccepted(Path file, String identity) {
        Path note = note(file);
        Path tmp = note.resolveSibling(note.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, identity + "\n");
            Files.move(tmp, note, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // litter in the cache
            }
        }
    }

    /** Deletes the file and its note. */
    static void delete(Path file) throws IOException {
        Files.deleteIfExists(note(file));
        Files.deleteIfExists(file);
    }

    private static Path note(Path file) {
        return file.resolveSibling(file.getFileName() + ".ok");
    }

    /**
     * Null if {@code file} belongs to this process's user or to {@code workersUid} (-1: none), or is
     * gone; else who it belongs to.
     */
    static String foreignOwner(Path file, int workersUid) {
        try {
            int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            // Not jnr-posix's geteuid: this runs on the main thread at start, before the first spawn,
            // while jnr-posix may still be loading on its own thread.
            int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return owner == self || owner == workersUid ? null : "uid " + owner;
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "an owner that cannot be read (" + e.getMessage() + ")";
        }
    }

    /** Inode, size and modification time; null if there is no such file. */
    static String identity(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The java binary, its version and release file, the command, every classpath entry's size and
     * time, and the user workers run as (--user), hashed: a changed jar or option gets another
     * archive, and so does another user, whose workers could not use this one's (they refuse what
     * neither they nor the supervisor's user own).
     */
    static String key(WorkerCommand.App config, List<String> command) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, Path.of(config.java()).toRealPath().toString());
            update(sha, readRelease(config.java()));
            update(sha, jvmLibrary(config.java()));
            for (String part : command) {
                update(sha, part);
            }
            if (config.runAs() != null) {  // nothing for the others: their archives keep the names they had
                update(sha, "run as uid " + config.runAs().uid());
            }
            int cp = command.indexOf("-cp");
            for (String entry : command.get(cp + 1).split(File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.exists(p)) {
                    update(sha, entry + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis());
                }
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            return "unkeyed";
        }
    }

    /** The JVM library's size and time: a rebuilt JDK of the same version refuses archives of the old one. */
    private static String jvmLibrary(String java) {
        try {
            Path home = Path.of(java).toRealPath().getParent().getParent();
            for (String vm : List.of("server", "client")) {
                Path lib = home.resolve("lib").resolve(vm).resolve("libjvm.so");
                if (Files.exists(lib)) {
                    return vm + ":" + Files.size(lib) + ":" + Files.getLastModifiedTime(lib).toMillis();
                }
            }
        } catch (IOException | RuntimeException e) {
            // hashed as unknown: the check at first use still catches a refusal
        }
        return "";
    }

    private static String readRelease(String java) {
        try {
            return Files.readString(Path.of(java).toRealPath().getParent().getParent().resolve("release"));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static void update(MessageDigest sha, String s) {
        sha.update(s.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
    }
}
