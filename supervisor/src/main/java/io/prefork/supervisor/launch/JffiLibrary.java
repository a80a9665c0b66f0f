package io.prefork.supervisor.launch;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;

/**
 * jnr-ffi's native stub (libjffi) for the worker JVMs, unpacked once into the cache directory. Left to
 * itself, jffi unpacks it into a new temporary file in every JVM and deletes that at a normal exit: a
 * worker ended by SIGKILL, the OOM killer or a crash leaves its copy in /tmp for good, one per crash,
 * for a supervisor whose job is to restart crashed workers. With {@code -Djffi.boot.library.path} each
 * worker loads the one copy instead (and a JVM that cannot, e.g. under --user, unpacks its own as before).
 * The supervisor's own JVM loads it from there too ({@link #useInThisJvm}), so that a supervisor
 * killed in its first moments leaves nothing in /tmp either.
 */
public final class JffiLibrary {
    private static final String BOOT_PATH = "jffi.boot.library.path";

    private JffiLibrary() {
    }

    /**
     * The option that points the workers at the unpacked library in {@code cacheDir}, unpacking it
     * there first if no JVM did yet; none if it cannot (jffi then unpacks its own copy, as it would).
     */
    public static List<String> workerOptions(Path cacheDir) {
        Path dir = unpacked(cacheDir);
        return dir == null ? List.of() : List.of("-D" + BOOT_PATH + "=" + dir);
    }

    /**
     * Points this JVM's jffi at the copy in {@code cacheDir} (unpacking it first if need be); call it
     * before anything loads jnr-ffi. Does nothing for a null {@code cacheDir}, where a path was given
     * already, or where there is no safe copy (jffi then unpacks its own, as it would).
     */
    public static void useInThisJvm(Path cacheDir) {
        if (cacheDir == null || System.getProperty(BOOT_PATH) != null) {
            return;
        }
        try {
            Path dir = unpacked(cacheDir);
            if (dir != null) {
                System.setProperty(BOOT_PATH, dir.toString());
            }
        } catch (RuntimeException e) {
            // an odd path or file system: jffi unpacks its own copy
        }
    }

    /** The directory in {@code cacheDir} that holds this jffi's library, unpacked there if no JVM did yet; null if none can. */
    private static Path unpacked(Path cacheDir) {
        String platform = platform();
        if (platform == null) {
            return null;
        }
        String name = System.mapLibraryName("jffi-" + com.kenai.jffi.Version.MAJOR + "." + com.kenai.jffi.Version.MINOR);
        URL resource = ClassLoader.getSystemResource("jni/" + platform + "/" + name);
        if (resource == null) {
            return null;
        }
        Path partial = null;
        try {
            JarURLConnection jar = (JarURLConnection) resource.openConnection();
            JarEntry entry = jar.getJarEntry();
            // Named by the library's size and CRC, which the jar keeps: one copy per version.
            Path dir = cacheDir.resolve("jffi-" + entry.getSize() + "-" + Long.toHexString(entry.getCrc()));
            Path file = dir.resolve(name);
            if (!ours(dir, file, entry.getCrc())) {
                Files.createDirectories(dir);
                if (!safe(dir)) {
                    return null;  // others may write there: no library is loaded from it
                }
                partial = Files.createTempFile(dir, name, ".partial");
                try (InputStream in = jar.getInputStream()) {
                    Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return dir;
        } catch (IOException | ClassCastException e) {
            return null;  // not in a jar, or no room in the cache: jffi unpacks its own copy
        } finally {
            if (partial != null) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException e) {
                    // a stray partial file in our cache directory; the next start writes another
                }
            }
        }
    }

    /**
     * Whether {@code file} is a copy this user made that nobody else could have changed since: in a
     * directory of ours that only we may write, with the jar entry's CRC. Workers run the library as
     * code, so a copy is never taken on its name or size alone (a shared --cache-dir such as /tmp).
     */
    private static boolean ours(Path dir, Path file, long crc) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !safe(dir)
                || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !Files.getOwner(file).equals(Files.getOwner(dir))) {
            return false;
        }
        CRC32 sum = new CRC32();
        sum.update(Files.readAllBytes(file));
        return sum.getValue() == crc;
    }

    /** Owned by this user, not a symbolic link, and not writable by group or others. */
    private static boolean safe(Path dir) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        return !Files.isSymbolicLink(dir)
                && Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"))
                && !mode.contains(PosixFilePermission.GROUP_WRITE) && !mode.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /** jffi's name for this platform's directory in its native jar; null where prefork does not run. */
    static String platform() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return null;
        }
        return arch.equals("amd64") || arch.equals("x86_64") ? "x86_64-Linux" : arch.equals("aarch64") ? "aarch64-Linux" : null;
    }
}
