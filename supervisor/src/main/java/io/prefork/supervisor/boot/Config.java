package io.prefork.supervisor.boot;

import io.prefork.supervisor.launch.RunAs;
import io.prefork.supervisor.launch.WorkerCommand;
import io.prefork.supervisor.launch.WorkerStart;
import io.prefork.supervisor.net.BindAddress;
import io.prefork.supervisor.net.Listeners;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Everything the command line (and the config file) decides. Built by {@link Cli}. */
public record Config(
        int workers,
        List<BindAddress> binds,
        String appClass,
        String appClasspath,
        String java,
        List<String> jvmOpts,
        int backlog,
        Listeners.Balance balance,
        Duration gracefulTimeout,
        Duration bootTimeout,
        int bootNice,
        Duration timeout,
        int maxSurge,
        int spares,
        Duration spareDelay,
        long maxRequests,
        long maxRequestsJitter,
        long maxWorkerRssMb,
        Path pidFile,
        Path ctlSocket,
        boolean ctlSocketGiven,
        String adminGroup,
        Path logFile,
        String readyMode,
        WorkerStart workerStart,
        Path cacheDir,
        BindAddress adminBind,
        List<String> workerCommand,
        int minReady,
        Duration lameDuck,
        int maxRestarts,
        RunAs runAs,
        Duration restartWindow,
        Duration stallTimeout,
        boolean jvmShare,
        int warmupRequests,
        String warmupPath,
        int trainingRequests,
        List<String> appArgs) implements WorkerCommand.App {

    public Config {
        binds = List.copyOf(binds);
        jvmOpts = List.copyOf(jvmOpts);
        appArgs = List.copyOf(appArgs);
        workerCommand = List.copyOf(workerCommand);
    }
}
