package io.prefork.supervisor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Everything the command line decides. Built by {@link Cli}. */
public record Config(
        int workers,
        List<BindAddress> binds,
        String appClass,
        String appClasspath,
        String java,
        List<String> jvmOpts,
        int backlog,
        Duration gracefulTimeout,
        Duration bootTimeout,
        Path pidFile,
        String readyMode,
        List<String> appArgs) {

    public Config {
        binds = List.copyOf(binds);
        jvmOpts = List.copyOf(jvmOpts);
        appArgs = List.copyOf(appArgs);
    }
}
