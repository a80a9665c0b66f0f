package io.prefork.supervisor.boot;

import io.prefork.supervisor.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * {@code --app-jar}: an executable jar is the app's whole classpath, and its manifest's Main-Class
 * the app class. For a Spring Boot executable jar that is Boot's own launcher, which builds the
 * app's class loader from the jar's nested jars and then calls the Start-Class; the worker library
 * stays in the parent class loader, so the app and the worker share one {@code Prefork}.
 */
public final class AppJar {
    private AppJar() {
    }

    /** The jar's Main-Class, or a usage error naming what is wrong with the jar. */
    static String mainClass(String jar) throws UsageException {
        Path path = Path.of(jar);
        if (!Files.isRegularFile(path)) {
            throw new UsageException("--app-jar " + jar + ": no such file");
        }
        Manifest manifest;
        try (JarFile file = new JarFile(path.toFile())) {
            manifest = file.getManifest();
        } catch (IOException e) {
            throw new UsageException("--app-jar " + jar + ": not a readable jar (" + e.getMessage() + ")");
        }
        String main = manifest == null ? null : manifest.getMainAttributes().getValue("Main-Class");
        if (main == null || main.isBlank()) {
            throw new UsageException("--app-jar " + jar + ": its manifest names no Main-Class; use --app-classpath and --app");
        }
        return main.trim();
    }
}
