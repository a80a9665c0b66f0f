package io.prefork.supervisor.launch;

import io.prefork.protocol.WorkerEnvironment;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.WorkerArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The class archive that makes worker JVMs start faster ({@code --worker-start fast}): an AppCDS
 * dynamic archive on JDK 17-23, the AOT cache on JDK 24 and later. One archive per worker command:
 * its name hashes the java binary, the JDK version, the JVM options, the app class and every
 * classpath entry's size and modification time, so a changed jar or option means another archive
 * and a stale one is never used. An archive is checked with -Xshare:on (or -XX:AOTMode=on) when it
 * is made, or when it is found with no note that the JVM took it (or one for another identity of the
 * file); one the JVM refuses is deleted and trained again. Training is one worker run
 * that boots as far as Prefork.listeners() and exits normally; the JVM writes the archive at exit.
 * On JDK 24+ a run records the AOT configuration (-XX:AOTMode=record) and the supervisor makes the
 * cache from it once the run has exited, off its loop ({@link ArchiveFiles#assemble}).
 *
 * <p>{@code --worker-start trained} (JDK 24+) adds the recorded cache: one serving worker at a time
 * records, and the JVM writes what it loaded and the profiles of the methods
 * that served real traffic as it exits (recycled, replaced in a roll, stopped). Once the JVM accepts
 * one, every later worker starts from it instead of the boot archive, and nothing records any more
 * until the command changes (another key, another file).
 */
public final class ClassArchive implements WorkerArchive {
    /** A recording worker that served fewer requests learned little more than a boot: its cache is thrown away. */
    public static final long MIN_RECORDED_REQUESTS = 1000;
    /** After this many recordings the JVM would not write or accept, workers stop recording. */
    static final int MAX_RECORDING_FAILURES = 3;

    /**
     * Archives this supervisor has seen the JVM accept, by file identity; one per supervisor process
     * (Bootstrap owns it). A HUP onto an unchanged configuration finds the same file and skips the check,
     * a JVM start (0.3-1 s) that would block the supervisor's loop. A file replaced since has another
     * identity and is checked again. It also knows which recorded caches a worker records now, whatever
     * its generation: a HUP during a recording starts no second recorder for the same file, and its
     * workers take the cache once the first one is kept.
     */
    public static final class Accepted {
        private final Map<Path, String> identities = new ConcurrentHashMap<>();
        private final Set<Path> recording = ConcurrentHashMap.newKeySet();

        boolean contains(Path file, String identity) {
            return identity.equals(identities.get(file));
        }

        void add(Path file, String identity) {
            identities.put(file, identity);
        }

        boolean accepted(Path file) {
            String identity = ArchiveFiles.identity(file);
            return identity != null && contains(file, identity);
        }
    }

    private enum Recording { OFF, WANTED, RUNNING, DONE }

    private static final AtomicInteger OUTPUTS = new AtomicInteger();

    private final Accepted accepted;
    private final Path file;
    /** --worker-start trained on JDK 24+: the cache recorded from traffic; else null. */
    private final Path recorded;
    private final boolean aot;
    private final List<String> command;
    /** --user: runs write as that user, into a temporary directory of their own; the check and the AOT cache's assembly run as that user too. */
    private final RunAs runAs;
    private Path trainingFile;
    private Path recordingFile;
    private volatile State state;
    private volatile Recording recording;
    private int recordingFailures;

    private ClassArchive(Path file, Path recorded, boolean aot, List<String> command, RunAs runAs, Accepted accepted) {
        this.accepted = accepted;
        this.file = file;
        this.recorded = recorded;
        this.aot = aot;
        this.command = command;
        this.runAs = runAs;
        this.state = State.MISSING;
        this.recording = recorded == null ? Recording.OFF : Recording.WANTED;
    }

    /**
     * @param jdk     the version of {@code config.java()}, null if unknown
     * @param command the worker command without archive options: java, its options, -cp, launcher, app
     * @param mode    FAST or TRAINED (TRAINED is FAST on JDK 17-23, which has no AOT cache: the log says so)
     */
    public static ClassArchive prepare(WorkerCommand.App config, Runtime.Version jdk, List<String> command, WorkerStart mode,
                                       Path cacheDir, Accepted accepted, Log log) {
        boolean aot = jdk != null && jdk.feature() >= 24;
        String key = ArchiveFiles.key(config, command);
        Path file = cacheDir.resolve("worker-" + key + (aot ? ".aot" : ".jsa"));
        if (mode == WorkerStart.TRAINED && !aot) {
            log.warn("--worker-start trained needs the AOT cache of JDK 24 or later (" + config.java()
                    + " is older); workers start from a class archive trained at boot, as with fast");
        }
        Path recorded = mode == WorkerStart.TRAINED && aot ? cacheDir.resolve("worker-" + key + ".trained.aot") : null;
        ClassArchive archive = new ClassArchive(file, recorded, aot, command, config.runAs(), accepted);
        if (recorded != null && archive.usable(recorded, "recorded cache", log)) {
            archive.state = State.READY;
            archive.recording = Recording.DONE;
            return archive;
        }
        if (archive.usable(file, "class archive", log)) {
            archive.state = State.READY;
        } else if (Files.exists(file)) {
            archive.state = State.FAILED;
        }
        return archive;
    }

    /**
     * Whether the JVM takes the file (asked once per file identity); one it refuses is deleted, and so
     * is one that another user wrote (a worker JVM maps it before it runs anything: a root worker
     * must never map what an unprivileged user could have written).
     */
    private boolean usable(Path archive, String what, Log log) {
        String identity = ArchiveFiles.identity(archive);
        if (identity == null) {
            return false;
        }
        String stranger = ArchiveFiles.foreignOwner(archive, runAs == null ? -1 : runAs.uid());
        if (stranger != null) {
            log.warn(what + " " + archive + " belongs to " + stranger + ", not to this supervisor's user nor to its workers';"
                    + " deleting it, a worker run makes it again");
            try {
                ArchiveFiles.delete(archive);
            } catch (IOException e) {
                log.warn("cannot delete " + archive + ": " + e.getMessage() + "; workers start without it");
            }
            return false;
        }
        if (accepted.contains(archive, identity)) {
            log.info(what + " " + archive + ": valid (checked before by this supervisor); workers start with it");
            return true;
        }
        if (ArchiveFiles.acceptedBefore(archive, identity)) {
            accepted.add(archive, identity);
            log.info(what + " " + archive + ": valid (the JVM took it when it was made); workers start with it");
            return true;
        }
        String refusal = ArchiveFiles.refusal(runPrefix(), command, aot, archive);
        if (refusal == null) {
            accepted.add(archive, identity);
            ArchiveFiles.noteAccepted(archive, identity);
            log.info(what + " " + archive + ": valid; workers start with it");
            return true;
        }
        log.warn(what + " " + archive + " is unusable (" + refusal + "); deleting it, a worker run makes it again");
        try {
            ArchiveFiles.delete(archive);
        } catch (IOException e) {
            log.warn("cannot delete " + archive + ": " + e.getMessage() + "; workers start without it");
        }
        return false;
    }

    /** What the JVMs that read a run's output start through: --user's setpriv, or nothing. */
    private List<String> runPrefix() {
        return runAs == null ? List.of() : runAs.prefix();
    }

    @Override
    public Path file() {
        return file;
    }

    /**
     * MISSING turns READY once another generation's training run made this very file (a HUP while it
     * trained: the same command, the same key): this generation uses it instead of training again.
     */
    @Override
    public State state() {
        if (state == State.MISSING && accepted.accepted(file)) {
            state = State.READY;
        }
        return state;
    }

    /** Options for a worker JVM: the recorded cache once there is one, else the boot archive once it is ready. */
    public List<String> useOptions() {
        if (recording == Recording.WANTED && accepted.accepted(recorded)) {
            recording = Recording.DONE;  // recorded by a worker of an earlier generation with the same command
        }
        if (recording == Recording.DONE) {
            return List.of("-XX:AOTCache=" + recorded);
        }
        if (state != State.READY) {
            return List.of();
        }
        return aot ? List.of("-XX:AOTCache=" + file) : List.of("-XX:SharedArchiveFile=" + file);
    }

    /**
     * Options for the training run, which writes the archive when it exits normally.
     *
     * @param requests --training-requests: what it serves first, so that their classes are in the archive
     */
    public List<String> trainOptions(int requests) {
        trainingFile = output(file, "training");
        // The JVM warns on stdout about each class it leaves out (proxies, JFR events): expected,
        // harmless, and 5-20 lines of noise in the operator's log; trainingEnded() checks the result.
        List<String> options = new ArrayList<>(aot ? record(trainingFile)
                : List.of("-XX:ArchiveClassesAtExit=" + trainingFile, "-Xlog:cds=off"));
        options.add("-D" + WorkerEnvironment.TRAINING_PROPERTY + "=" + requests);
        return options;
    }

    /**
     * Options for a serving worker that records (it cannot also use a cache: the JVM takes one of
     * -XX:AOTCache and -XX:AOTMode=record).
     */
    public List<String> recordOptions() {
        recordingFile = output(recorded, "recording");
        return record(recordingFile);
    }

    /** JDK 24+: the JVM records what the cache {@code cache} will be made of as it exits ({@link #install}). */
    private static List<String> record(Path cache) {
        return List.of("-XX:AOTMode=record", "-XX:AOTConfiguration=" + configuration(cache), "-Xlog:aot=off");
    }

    private static Path configuration(Path cache) {
        return cache.resolveSibling(cache.getFileName() + ".config");
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
        String refusal = install(trainingFile, file, exitValue != 0 ? "the training run " + cause : null);
        state = refusal == null ? State.READY : State.FAILED;
        return refusal;
    }

    @Override
    public void failed() {
        state = State.FAILED;
    }

    @Override
    public boolean wantsRecording() {
        return recording == Recording.WANTED && !accepted.recording.contains(recorded) && !accepted.accepted(recorded);
    }

    @Override
    public void recordingStarted() {
        recording = Recording.RUNNING;
        accepted.recording.add(recorded);
    }

    @Override
    public String recordingEnded(int exitValue, String cause, long requests) {
        String refusal = install(recordingFile, recorded,
                exitValue != 0 ? "the recording worker " + cause
                : requests < MIN_RECORDED_REQUESTS ? "the recording worker served " + requests + " requests, fewer than "
                        + MIN_RECORDED_REQUESTS + ": too little to learn from; the next worker records"
                : null);
        accepted.recording.remove(recorded);
        if (refusal == null) {
            recording = Recording.DONE;
        } else if (requests >= MIN_RECORDED_REQUESTS && ++recordingFailures >= MAX_RECORDING_FAILURES) {
            recording = Recording.OFF;
            refusal += "; " + MAX_RECORDING_FAILURES + " recordings failed, workers stop recording";
        } else {
            recording = Recording.WANTED;
        }
        return refusal;
    }

    @Override
    public Path recordedFile() {
        return recorded;
    }

    /**
     * Moves what a run wrote into place if the JVM accepts it, and returns null; or deletes it and
     * returns why not ({@code refusal}, if the caller already knows).
     */
    private String install(Path written, Path target, String refusal) {
        Path dir = written.getParent();
        Path configuration = configuration(written);  // beside what the run wrote, wherever that moves
        if (refusal == null && aot) {
            refusal = ArchiveFiles.assemble(runPrefix(), command, configuration, written);
        }
        if (refusal == null) {
            refusal = !Files.exists(written) ? "the JVM wrote no archive (a directory on the classpath?)"
                    : ArchiveFiles.refusal(runPrefix(), command, aot, written);
        }
        if (refusal == null) {
            try {
                if (runAs != null) {  // from the temporary directory, maybe another file system: copy in, then rename
                    Path incoming = output(target, "incoming");
                    Files.move(written, incoming, StandardCopyOption.REPLACE_EXISTING);
                    written = incoming;
                }
                Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                String identity = ArchiveFiles.identity(target);
                if (identity != null) {
                    accepted.add(target, identity);
                    ArchiveFiles.noteAccepted(target, identity);
                }
            } catch (IOException e) {
                refusal = "cannot move the archive into place: " + e.getMessage();
            }
        }
        try {
            Files.deleteIfExists(written);
            Files.deleteIfExists(configuration);
            if (!dir.equals(target.getParent())) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // litter in the cache or the temporary directory
        }
        return refusal;
    }

    /**
     * Where a run writes before its archive is checked: beside the target, with a name of its own, so
     * two supervisors (or two runs) never write one file. Under --user, the run is that user, who may
     * read the cache directory but not write it (root's): it writes into a fresh temporary directory
     * of its own instead, and the supervisor moves the archive in.
     */
    private Path output(Path target, String kind) {
        String name = target.getFileName() + "." + kind + "-" + ProcessHandle.current().pid() + "-" + OUTPUTS.incrementAndGet();
        if (runAs != null && !kind.equals("incoming")) {
            try {
                Path dir = Files.createTempDirectory("prefork-" + kind + "-");
                Files.setAttribute(dir, "unix:gid", runAs.gid());
                Files.setAttribute(dir, "unix:uid", runAs.uid());
                return dir.resolve(name);
            } catch (IOException | UnsupportedOperationException e) {
                // the run then fails to write, and workers start without an archive (logged then)
            }
        }
        return target.resolveSibling(name);
    }
}
