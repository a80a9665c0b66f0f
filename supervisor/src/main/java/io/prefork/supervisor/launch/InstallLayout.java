package io.prefork.supervisor.launch;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Where prefork is installed (the source tree, or the distribution), to find the example app without being told. */
public final class InstallLayout {
    private InstallLayout() {
    }

    /**
     * {@code -Dprefork.home} if set (scripts/prefork sets it), else derived from this class's jar: the
     * supervisor runs from {@code <home>/supervisor/target/prefork-supervisor.jar}.
     */
    static Path home() {
        String home = System.getProperty("prefork.home");
        if (home != null) {
            return Path.of(home);
        }
        try {
            Path jar = Path.of(InstallLayout.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path supervisorModule = jar.getParent() == null ? null : jar.getParent().getParent();
            return supervisorModule == null || supervisorModule.getParent() == null ? null : supervisorModule.getParent();
        } catch (URISyntaxException | SecurityException e) {
            return null;
        }
    }

    /** The example app: {@code examples/target/} in the source tree, {@code examples/} in the distribution. */
    public static Path exampleJar() {
        Path home = home();
        if (home == null) {
            return null;
        }
        Path distributed = home.resolve("examples/prefork-examples.jar").normalize();
        return java.nio.file.Files.isRegularFile(distributed) ? distributed
                : home.resolve("examples/target/prefork-examples.jar").normalize();
    }

    /** The launch script: {@code bin/prefork} in the distribution, {@code scripts/prefork} in the source tree. */
    public static Path script() {
        Path home = home();
        if (home == null) {
            return null;
        }
        Path distributed = home.resolve("bin/prefork");
        return java.nio.file.Files.isExecutable(distributed) ? distributed : home.resolve("scripts/prefork");
    }
}
