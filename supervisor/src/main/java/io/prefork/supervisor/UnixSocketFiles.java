package io.prefork.supervisor;

import io.prefork.unix.Linux;
import io.prefork.unix.NativeException;
import io.prefork.unix.Posix;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/** Hygiene for socket files a server leaves behind. */
final class UnixSocketFiles {
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
        int probe = Posix.socket(Linux.AF_UNIX);
        try {
            Posix.connectUnix(probe, path.toString());
        } catch (NativeException e) {
            if (e.errno() == Linux.ECONNREFUSED) {
                Files.deleteIfExists(path);
                return;
            }
            throw e;
        } finally {
            Posix.close(probe);
        }
        throw new IOException("unix:" + path + " is in use by a running server");
    }

    /**
     * A listening Unix socket of mode 0600 at {@code path}: bound under a temporary name, made
     * private, then renamed into place, so it is never briefly open to all.
     */
    static ServerSocketChannel bindPrivate(Path path) throws IOException {
        removeStale(path);
        Path temp = path.resolveSibling(path.getFileName() + ".tmp." + ProcessHandle.current().pid());
        Files.deleteIfExists(temp);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(temp));
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE);
            return server;
        } catch (IOException e) {
            server.close();
            Files.deleteIfExists(temp);
            throw e;
        }
    }
}
