package io.prefork.supervisor.boot;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

/** Looks a class up on a classpath string as the JVM would read it: directories, jars, {@code dir/*}. */
public final class AppClasspath {
    private AppClasspath() {
    }

    static boolean contains(String classpath, String className) {
        String entryName = className.replace('.', '/') + ".class";
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.endsWith("*")) {
                Path dir = Path.of(entry.substring(0, entry.length() - 1).isEmpty() ? "." : entry.substring(0, entry.length() - 1));
                try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, "*.{jar,JAR}")) {
                    for (Path jar : jars) {
                        if (inJar(jar, entryName)) {
                            return true;
                        }
                    }
                } catch (IOException e) {
                    // unreadable: the class is not found there
                }
            } else if (!entry.isEmpty()) {
                Path p = Path.of(entry);
                if (Files.isDirectory(p) ? Files.isRegularFile(p.resolve(entryName)) : inJar(p, entryName)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean inJar(Path jar, String entryName) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.getEntry(entryName) != null;
        } catch (IOException e) {
            return false;
        }
    }
}
