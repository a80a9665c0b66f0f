package io.prefork.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** App builds for hot-deploy tests: the example with another greeting, or one whose main throws. */
final class Jars {
    static final Path EXAMPLES = RunningSupervisor.HOME.resolve("examples/target/prefork-examples.jar");

    private Jars() {
    }

    /** The example app, answering {@code greeting} on {@code /}. */
    static Path exampleWithGreeting(Path dir, String name, String greeting) throws IOException {
        Path jar = dir.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            copyExamples(out);
            out.putNextEntry(new JarEntry("prefork-hello.txt"));
            out.write(greeting.getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }

    /** Every entry of the examples jar (its classes, Jetty's) into {@code out}. */
    private static void copyExamples(JarOutputStream out) throws IOException {
        try (JarInputStream in = new JarInputStream(Files.newInputStream(EXAMPLES))) {
            JarEntry e;
            while ((e = in.getNextJarEntry()) != null) {
                out.putNextEntry(new JarEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
        }
    }

    /** A build of {@code io.prefork.examples.HelloApp} whose main throws: a broken release. */
    static Path brokenHelloApp(Path dir) throws IOException {
        Path src = dir.resolve("broken-src/io/prefork/examples/HelloApp.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package io.prefork.examples;\npublic class HelloApp {\n"
                + "    public static void main(String[] args) { throw new IllegalStateException(\"broken build\"); }\n}\n");
        Path classes = Files.createDirectories(dir.resolve("broken-classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac.run(null, null, null, "-d", classes.toString(), src.toString()) != 0) {
            throw new IOException("could not compile the broken app");
        }
        Path jar = dir.resolve("broken.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("io/prefork/examples/HelloApp.class"));
            try (InputStream in = Files.newInputStream(classes.resolve("io/prefork/examples/HelloApp.class"))) {
                in.transferTo(out);
            }
            out.closeEntry();
        }
        return jar;
    }

    /** A Java agent whose premain prints who it runs as, from /proc/self/status: {@code agent premain runs with Uid: ...}. */
    static Path whoAmIAgent(Path dir) throws IOException {
        Path src = dir.resolve("agent-src/WhoAmIAgent.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "public class WhoAmIAgent {\n"
                + "    public static void premain(String args) throws Exception {\n"
                + "        String uid = java.nio.file.Files.readAllLines(java.nio.file.Path.of(\"/proc/self/status\")).stream()\n"
                + "                .filter(l -> l.startsWith(\"Uid:\")).findFirst().orElse(\"Uid: ?\").replaceAll(\"\\\\s+\", \" \");\n"
                + "        System.out.println(\"agent premain runs with \" + uid);\n"
                + "    }\n}\n");
        Path classes = Files.createDirectories(dir.resolve("agent-classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac.run(null, null, null, "-d", classes.toString(), src.toString()) != 0) {
            throw new IOException("could not compile the agent");
        }
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", "WhoAmIAgent");
        Path jar = dir.resolve("agent.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("WhoAmIAgent.class"));
            try (InputStream in = Files.newInputStream(classes.resolve("WhoAmIAgent.class"))) {
                in.transferTo(out);
            }
            out.closeEntry();
        }
        return jar;
    }

    /** The example app as an executable jar: its manifest's Main-Class is {@code mainClass}. */
    static Path executableExample(Path dir, String mainClass) throws IOException {
        Path jar = dir.resolve("executable.jar");
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, mainClass);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            copyExamples(out);
        }
        return jar;
    }

    /**
     * A release of the example app: an executable jar (Main-Class HelloApp) answering {@code greeting}.
     * With {@code requiredFile}, its Main-Class is a class of its own that refuses to start unless that
     * file is in the working directory, then runs HelloApp: a release that fails to boot on a host
     * whose configuration lacks the file.
     */
    static Path release(Path dir, String name, String greeting, String requiredFile) throws IOException {
        String main = "io.prefork.examples.HelloApp";
        Path classes = null;
        if (requiredFile != null) {
            main = "io.prefork.release.Configured";
            Path src = dir.resolve(name + "-src/io/prefork/release/Configured.java");
            Files.createDirectories(src.getParent());
            Files.writeString(src, "package io.prefork.release;\npublic class Configured {\n"
                    + "    public static void main(String[] args) throws Exception {\n"
                    + "        if (!java.nio.file.Files.exists(java.nio.file.Path.of(\"" + requiredFile + "\"))) {\n"
                    + "            throw new IllegalStateException(\"no " + requiredFile + " in \" + java.nio.file.Path.of(\"\").toAbsolutePath());\n"
                    + "        }\n"
                    + "        io.prefork.examples.HelloApp.main(args);\n    }\n}\n");
            classes = Files.createDirectories(dir.resolve(name + "-classes"));
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac.run(null, null, null, "-cp", EXAMPLES.toString(), "-d", classes.toString(), src.toString()) != 0) {
                throw new IOException("could not compile " + src);
            }
        }
        Path jar = dir.resolve(name);
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, main);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            copyExamples(out);
            out.putNextEntry(new JarEntry("prefork-hello.txt"));
            out.write(greeting.getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            if (classes != null) {
                out.putNextEntry(new JarEntry("io/prefork/release/Configured.class"));
                Files.copy(classes.resolve("io/prefork/release/Configured.class"), out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** Deploys like a release script should: rename over the old jar, never overwrite it in place. */
    static void deploy(Path build, Path appJar) throws IOException {
        Path temp = appJar.resolveSibling(appJar.getFileName() + ".new");
        Files.copy(build, temp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(temp, appJar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static List<String> appArgs(Path appJar) {
        return List.of("--app-classpath", appJar.toString());
    }
}
