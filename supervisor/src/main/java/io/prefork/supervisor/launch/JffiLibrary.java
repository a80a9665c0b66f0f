package io.prefork.supervisor.launch;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarEntry;

/**
 * jnr-ffi's native stub (libjffi) for the worker JVMs, unpacked once into the cache directory. Left to
 * itself, jffi unpacks it into a new temporary file in every JVM and deletes that at a normal exit: a
 * worker ended by SIGKILL, the OOM killer or a crash leaves its copy in /tmp for good, one per crash,
 * for a supervisor whose job is to restart crashed workers. With {@code -Djffi.boot.library.path} each
 * worker loads the one copy instead (and a JVM that cannot, e.g. under --user, unpacks its own as before).
 */
public final class JffiLibrary {
    private JffiLibrary() {
    }

    /**
     * The option that points the workers at the unpacked library in {@code cacheDir}, unpacking it
     * there first if no JVM did yet; none if it cannot (jffi then unpacks its own copy, as it would).
     */
    public static List<String> workerOptions(Path cacheDir) {
        String platform = platform();
        if (platform == null) {
            return List.of();
        }
        String name = System.mapLibraryName("jffi-" + com.kenai.jffi.Version.MAJOR + "." + com.kenai.jffi.Version.MINOR);
        URL resource = ClassLoader.getSystemResource("jni/" + platform + "/" + name);
        if (resource == null) {
            return List.of();
        }
        Path partial = null;
        try {
            JarURLConnection jar = (JarURLConnection) resource.openConnection();
            JarEntry entry = jar.getJarEntry();
            // Named by the library's size and CRC, which the jar keeps: one copy per version, none read twice.
            Path dir = cacheDir.resolve("jffi-" + entry.getSize() + "-" + Long.toHexString(entry.getCrc()));
            Path file = dir.resolve(name);
            if (!Files.isRegularFile(file) || Files.size(file) != entry.getSize()) {
                Files.createDirectories(dir);
                partial = Files.createTempFile(dir, name, ".partial");
                try (InputStream in = jar.getInputStream()) {
                    Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return List.of("-Djffi.boot.library.path=" + dir);
        } catch (IOException | ClassCastException e) {
            return List.of();  // not in a jar, or no room in the cache: jffi unpacks its own copy
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

    /** jffi's name for this platform's directory in its native jar; null where prefork does not run. */
    static String platform() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return null;
        }
        return arch.equals("amd64") || arch.equals("x86_64") ? "x86_64-Linux" : arch.equals("aarch64") ? "aarch64-Linux" : null;
    }
}
