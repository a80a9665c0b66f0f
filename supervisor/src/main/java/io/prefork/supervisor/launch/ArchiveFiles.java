package io.prefork.supervisor.launch;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a class archive file is to the JVM that would use it: its key (which worker command it is
 * for), whether the JVM accepts it, and its identity on disk (so an accepted file is not checked twice).
 */
final class ArchiveFiles {
    private ArchiveFiles() {
    }

    /** Why the JVM refuses the archive, or null if it takes it: a start with sharing forced on. */
    static String refusal(List<String> command, boolean aot, Path archive) {
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
    static String identity(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The java binary, its version and release file, the command, and every classpath entry's size
     * and time, hashed: a changed jar or option gets another archive.
     */
    static String key(WorkerCommand.App config, List<String> command) {
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
