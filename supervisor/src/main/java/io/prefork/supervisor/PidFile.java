package io.prefork.supervisor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The pid file: written to a temp file and renamed, removed only while it still holds our pid. */
final class PidFile {
    private final Path path;
    private final String pid;

    private PidFile(Path path, String pid) {
        this.path = path;
        this.pid = pid;
    }

    static PidFile write(Path path) throws IOException {
        String pid = Long.toString(ProcessHandle.current().pid());
        Path temp = path.resolveSibling(path.getFileName() + ".tmp." + pid);
        try {
            Files.writeString(temp, pid + "\n");
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new IOException("cannot write pid file " + path + ": " + Main.reason(e), e);
        }
        return new PidFile(path, pid);
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            // nothing was written there, or the directory is unusable: nothing to clean
        }
    }

    void remove() {
        try {
            if (Files.readString(path).trim().equals(pid)) {
                Files.delete(path);
            }
        } catch (IOException e) {
            // gone already, or replaced by someone else's: either way not ours to remove
        }
    }
}
