package io.prefork.supervisor.launch;

import io.prefork.protocol.WorkerEnvironment;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerArchive;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The class archive that makes worker JVMs start faster ({@code --worker-start fast}): an AppCDS
 * dynamic archive on JDK 17-23, the AOT cache on JDK 24 and later. One archive per worker command:
 * its name hashes the java binary, the JDK version, the JVM options, the app class and every
 * classpath entry's size and modification time, so a changed jar or option means another archive
 * and a stale one is never used. An existing archive is checked once with -Xshare:on (or
 * -XX:AOTMode=on), and one the JVM refuses is deleted and trained again. Training is one worker run
 * that boots as far as Prefork.listeners() and exits normally; the JVM writes the archive at exit.
 */
public final class ClassArchive implements WorkerArchive {

    /**
     * Archives this supervisor has seen the JVM accept, by file identity; one per supervisor process
     * (Bootstrap owns it). A HUP onto an unchanged configuration finds the same file and skips the check,
     * a JVM start (0.3-1 s) that would block the supervisor's loop. A file replaced since has another
     * identity and is checked again.
     */
    public static final class Accepted {
        private final Map<Path, String> identities = new ConcurrentHashMap<>();

        boolean contains(Path file, String identity) {
            return identity.equals(identities.get(file));
        }

        void add(Path file, String identity) {
            identities.put(file, identity);
        }
    }

    private final Accepted accepted;

    private final Path file;
    /** Training writes here, and a good archive is renamed to {@link #file}: two supervisors never write one file. */
    private Path trainingFile;
    private final boolean aot;
    private final List<String> command;
    /** --user: the training run writes as that user, into a directory of its own in the cache. */
    private final RunAs runAs;
    private Path trainingDirectory;
    private volatile State state;

    private ClassArchive(Path file, boolean aot, List<String> command, RunAs runAs, State state, Accepted accepted) {
        this.accepted = accepted;
        this.file = file;
        this.trainingFile = file.resolveSibling(file.getFileName() + ".training-" + ProcessHandle.current().pid());
        this.aot = aot;
        this.command = command;
        this.runAs = runAs;
        this.state = state;
    }

    /**
     * @param command the worker command without archive options: java, its options, -cp, launcher, app
     */
    public static ClassArchive prepare(WorkerCommand.App config, List<String> command, Path cacheDir, Accepted accepted, Log log) {
        boolean aot = WorkerCommand.featureVersion(config.java()) >= 24;
        Path file = cacheDir.resolve("worker-" + key(config, command) + (aot ? ".aot" : ".jsa"));
        ClassArchive archive = new ClassArchive(file, aot, command, config.runAs(), State.MISSING, accepted);
        String identity = identity(file);
        if (identity != null && accepted.contains(file, identity)) {
            archive.state = State.READY;
            log.info("class archive " + file + ": valid (checked before by this supervisor); workers start with it");
        } else if (identity != null) {
            String refusal = archive.refusal(file);
            if (refusal == null) {
                accepted.add(file, identity);
                archive.state = State.READY;
                log.info("class archive " + file + ": valid; workers start with it");
            } else {
                log.warn("class archive " + file + " is unusable (" + refusal + "); deleting it, a worker run trains it again");
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    archive.state = State.FAILED;
                    log.warn("cannot delete " + file + ": " + e.getMessage() + "; workers start without an archive");
                }
            }
        }
        return archive;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public State state() {
        return state;
    }

    /** Options for a worker JVM: use the archive once it is ready. */
    public List<String> useOptions() {
        if (state != State.READY) {
            return List.of();
        }
        return aot ? List.of("-XX:AOTCache=" + file) : List.of("-XX:SharedArchiveFile=" + file);
    }

    /** Options for the training run, which writes the archive when it exits normally. */
    public List<String> trainOptions() {
        if (runAs != null) {
            makeTrainingDirectory();
        }
        // The JVM warns on stdout about each class it leaves out (proxies, JFR events): expected,
        // harmless, and 5-20 lines of noise in the operator's log; trainingEnded() checks the result.
        String training = "-D" + WorkerEnvironment.TRAINING_PROPERTY + "=true";
        return aot ? List.of("-XX:AOTCacheOutput=" + trainingFile, "-Xlog:aot=off", training)
                : List.of("-XX:ArchiveClassesAtExit=" + trainingFile, "-Xlog:cds=off", training);
    }

    @Override
    public void trainingStarted() {
        state = State.TRAINING;
    }

    /**
     * After the training run exited ({@code cause}: how, as the loop logged it, knowing whether it
     * sent the SIGKILL itself): the archive is ready if the JVM wrote one it accepts.
     */
    @Override
    public String trainingEnded(int exitValue, String cause) {
        String refusal = exitValue != 0 ? "the training run " + cause
                : !Files.exists(trainingFile) ? "the training run wrote no archive (a directory on the classpath?)"
                : refusal(trainingFile);
        if (refusal == null) {
            try {
                if (runAs != null) {  // from the temporary directory, maybe another file system: copy in, then rename
                    Path incoming = file.resolveSibling(file.getFileName() + ".incoming-" + ProcessHandle.current().pid());
                    Files.move(trainingFile, incoming, StandardCopyOption.REPLACE_EXISTING);
                    trainingFile = incoming;
                }
                Files.move(trainingFile, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                String identity = identity(file);
                if (identity != null) {
                    accepted.add(file, identity);
                }
            } catch (IOException e) {
                refusal = "cannot move the archive into place: " + e.getMessage();
            }
        }
        if (refusal != null) {
            try {
                Files.deleteIfExists(trainingFile);
            } catch (IOException e) {
                // a leftover training file is only litter in the cache directory
            }
        }
        if (trainingDirectory != null) {
            try {
                Files.deleteIfExists(trainingFile);
                Files.deleteIfExists(trainingDirectory);
            } catch (IOException e) {
                // litter in the temporary directory
            }
        }
        state = refusal == null ? State.READY : State.FAILED;
        return refusal;
    }

    /**
     * The training run drops to --user before it writes, and may not reach the cache directory
     * (root's home is 0700): it writes into a fresh temporary directory of its own instead, and the
     * supervisor moves the archive into the cache.
     */
    private void makeTrainingDirectory() {
        try {
            if (trainingDirectory == null) {
                trainingDirectory = Files.createTempDirectory("prefork-training-");
                Files.setAttribute(trainingDirectory, "unix:gid", runAs.gid());
                Files.setAttribute(trainingDirectory, "unix:uid", runAs.uid());
                trainingFile = trainingDirectory.resolve(file.getFileName());
            }
        } catch (IOException | UnsupportedOperationException e) {
            // the training run then fails to write, and workers start without an archive (logged then)
        }
    }

    @Override
    public void failed() {
        state = State.FAILED;
    }

    /** Why the JVM refuses the archive, or null if it takes it: a start with sharing forced on. */
    private String refusal(Path archive) {
        List<String> check = new ArrayList<>();
        check.add(command.get(0));
        if (aot) {
            check.addAll(List.of("-XX:AOTMode=on", "-XX:AOTCache=" + archive));
        } else {
            check.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive));
        }
        // The same options and classpath as the workers, since the archive records them.
        int cp = command.indexOf("-cp");
        check.addAll(command.subList(1, cp + 2));
        check.add("-version");
        try {
            Process p = new ProcessBuilder(check).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "the check did not finish";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            String first = out.lines().filter(l -> !l.isBlank()).findFirst().orElse("exit " + p.exitValue());
            return first.strip();
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Inode, size and modification time; null if there is no such file. */
    private static String identity(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return null;
        }
    }

    private static String key(WorkerCommand.App config, List<String> command) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, Path.of(config.java()).toRealPath().toString());
            update(sha, Integer.toString(WorkerCommand.featureVersion(config.java())));
            update(sha, readRelease(config.java()));
            for (String part : command) {
                update(sha, part);
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
