package io.prefork.supervisor.net;

import io.prefork.supervisor.IoReason;
import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import io.prefork.unix.UnixSockets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import jnr.unixsocket.UnixServerSocketChannel;

/** The supervisor's own Unix sockets (made with jnr-unixsocket), and hygiene for the files they leave behind. */
public final class UnixSocketFiles {
    private UnixSocketFiles() {
    }

    /**
     * A socket file left by a dead server is removed; one a live server answers on is not, nor
     * anything that is not a socket. The probe is a connect: refused means nobody listens.
     */
    static void removeStale(Path path) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!attrs.isOther()) {
            throw new IOException("unix:" + path + " exists and is not a socket; not touching it");
        }
        try {
            UnixSockets.connect(path.toString()).close();
        } catch (NativeException e) {
            if (e.errno() == Linux.ECONNREFUSED) {
                Files.deleteIfExists(path);
                return;
            }
            throw e;
        }
        throw new IOException("unix:" + path + " is in use by a running server");
    }

    /**
     * A listening Unix socket of mode 0600 at {@code path}: bound under a temporary name, made
     * private, then renamed into place, so it is never briefly open to all. With {@code replaceLive}
     * the rename also replaces a socket a live server still listens on (the old supervisor, in an
     * upgrade): new clients reach the new one from that instant.
     */
    public static UnixServerSocketChannel bindPrivate(Path path, boolean replaceLive, int backlog) throws IOException {
        if (!replaceLive) {
            removeStale(path);
        }
        Path temp = path.resolveSibling(path.getFileName() + ".tmp." + ProcessHandle.current().pid());
        Files.deleteIfExists(temp);
        UnixServerSocketChannel server = UnixSockets.listen(temp.toString(), backlog);
        try {
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE);
            return server;
        } catch (IOException e) {
            server.close();
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** The file's identity (device and inode), to tell later whether the path still names our socket. */
    public static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Removes the socket file only if it is still the one we bound: an upgrade may have put another there. */
    public static void deleteIfOurs(Path path, Object fileKey) throws IOException {
        if (fileKey != null && fileKey.equals(fileKey(path))) {
            Files.deleteIfExists(path);
        }
    }

    /** A listening Unix socket of mode 0600 in a fresh directory of mode 0700 (0660 and 0710 for a group). */
    public record PrivateSocket(Path dir, Path path, UnixServerSocketChannel channel) {
        /**
         * Removes the socket file and its directory, with whatever else is in it (a worker killed while
         * it withdrew its listeners may have left its placeholder's path); the socket is its owner's to close.
         */
        public void removeFiles() {
            try {
                Files.deleteIfExists(path);
                try (var left = Files.newDirectoryStream(dir)) {
                    for (Path file : left) {
                        Files.deleteIfExists(file);
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    return;
                }
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                // an empty directory left in the temporary directory
            }
        }
    }

    /**
     * For sockets only this supervisor's own children may use: the workers' control socket, the
     * upgrade socket.
     *
     * @param group -1, or the gid of children that run as another user (--user): the directory is then
     *              0710 and the socket 0660, both that group's, so they can connect; the peer check
     *              still admits only pids this supervisor started
     */
    public static PrivateSocket bindInPrivateDirectory(String prefix, String name, int backlog, int group) throws IOException {
        Path dir;
        try {
            dir = Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new IOException("cannot create a directory for " + name + " in " + System.getProperty("java.io.tmpdir")
                    + " (TMPDIR): " + IoReason.of(e), e);
        }
        Path path = dir.resolve(name);
        UnixServerSocketChannel channel = null;
        try {
            // Listening before the chmod is safe: only this user can enter the 0700 directory.
            channel = UnixSockets.listen(path.toString(), backlog);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(group < 0 ? "rw-------" : "rw-rw----"));
            if (group >= 0) {
                Files.setAttribute(path, "unix:gid", group);
                Files.setAttribute(dir, "unix:gid", group);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x---"));
            }
            return new PrivateSocket(dir, path, channel);
        } catch (IOException | IllegalArgumentException | UnsupportedOperationException e) {
            if (channel != null) {
                channel.close();
            }
            new PrivateSocket(dir, path, null).removeFiles();
            throw new IOException("cannot create " + name + " in " + dir + ": " + e.getMessage(), e);
        }
    }
}
