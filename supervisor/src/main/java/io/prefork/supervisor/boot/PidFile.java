package io.prefork.supervisor.boot;

import io.prefork.supervisor.IoReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The pid file: written to a temp file and renamed, removed only while it still holds our pid. */
public final class PidFile {
    private final Path path;
    private final String pid;

    private PidFile(Path path, String pid) {
        this.path = path;
        this.pid = pid;
    }

    /**
     * Refuses, like gunicorn, when the file names a process that is running: most likely another
     * supervisor for the same service. A file left by a dead one is replaced.
     */
    /** @param mayReplace a pid whose file this one may replace while it runs (the old supervisor in an upgrade), or 0 */
    static PidFile write(Path path, long mayReplace) throws IOException {
        String pid = Long.toString(ProcessHandle.current().pid());
        long holder = holder(path);
        if (holder > 0 && holder != ProcessHandle.current().pid() && holder != mayReplace
                && ProcessHandle.of(holder).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IOException("pid file " + path + " holds pid " + holder
                    + ", which is running (another prefork? if not, remove the file)");
        }
        Path temp = path.resolveSibling(path.getFileName() + ".tmp." + pid);
        try {
            Files.writeString(temp, pid + "\n");
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new IOException("cannot write pid file " + path + ": " + IoReason.of(e), e);
        }
        return new PidFile(path, pid);
    }

    /** The pid in an existing pid file; 0 if there is none, or it is not a number. */
    private static long holder(Path path) {
        try {
            return Long.parseLong(Files.readString(path).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            // nothing was written there, or the directory is unusable: nothing to clean
        }
    }

    /**
     * Removes the file if it still holds our pid (after an upgrade it holds the next supervisor's:
     * left alone). Returns what the operator should hear when it cannot: the file is gone (deleted,
     * or its directory removed), or it cannot be deleted; null otherwise.
     */
    String remove() {
        try {
            if (Files.readString(path).trim().equals(pid)) {
                Files.delete(path);
            }
            return null;
        } catch (java.nio.file.NoSuchFileException e) {
            return "pid file " + path + " was removed while the supervisor ran (or its directory was); nothing to remove";
        } catch (IOException e) {
            return "cannot remove pid file " + path + ": " + IoReason.of(e);
        }
    }
}
