package io.prefork.supervisor;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Where the built project lives, to find the example app without being told. */
final class Defaults {
    private Defaults() {
    }

    /**
     * {@code -Dprefork.home} if set, else derived from this class's jar: the supervisor runs from
     * {@code <home>/supervisor/target/prefork-supervisor.jar}.
     */
    static Path home() {
        String home = System.getProperty("prefork.home");
        if (home != null) {
            return Path.of(home);
        }
        try {
            Path jar = Path.of(Defaults.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path supervisorModule = jar.getParent() == null ? null : jar.getParent().getParent();
            return supervisorModule == null || supervisorModule.getParent() == null ? null : supervisorModule.getParent();
        } catch (URISyntaxException | SecurityException e) {
            return null;
        }
    }

    static Path exampleJar() {
        Path home = home();
        if (home == null) {
            return null;
        }
        return home.resolve("examples/target/prefork-examples.jar").normalize();
    }
}
