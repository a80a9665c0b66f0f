package io.prefork.supervisor.upgrade;

import io.prefork.supervisor.Event;
import io.prefork.supervisor.ExitStatus;
import io.prefork.supervisor.Handover;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.launch.InstallLayout;
import io.prefork.supervisor.launch.FirstWorker;
import io.prefork.supervisor.launch.JvmWorkerLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Starts the new supervisor for an upgrade: the prefork script on disk now (so the jars on
 * disk now), with this one's arguments, its environment, its working directory and its output, and
 * the upgrade socket's path in {@code PREFORK_UPGRADE_SOCKET}.
 */
public class NewSupervisor implements Handover.Starter {
    private final String[] args;
    private final Consumer<Event> sink;
    private final Log log;

    public NewSupervisor(String[] args, Consumer<Event> sink, Log log) {
        this.args = args;
        this.sink = sink;
        this.log = log;
    }

    @Override
    public Handover.Attempt start() throws IOException {
        Path script = InstallLayout.script();
        if (script == null || !Files.isExecutable(script)) {
            throw new IOException("cannot find the prefork script to start the new supervisor (looked for " + script + ")");
        }
        UpgradeSocket server = UpgradeSocket.start(sink, log);
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put(JvmWorkerLauncher.UPGRADE_SOCKET, server.socketPath().toString());
        pb.environment().remove(FirstWorker.STARTED);  // that worker was this supervisor's
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            server.close();
            throw e;
        }
        server.expect(process.pid());
        process.onExit().thenAccept(p -> sink.accept(new Event.UpgradeEnded("the new supervisor "
                + (ExitStatus.signal(p.exitValue()) > 0 ? "was killed by " + ExitStatus.signalName(p.exitValue())
                : "exited with code " + p.exitValue()))));
        return new Handover.Attempt() {
            @Override
            public long pid() {
                return process.pid();
            }

            @Override
            public void sendListeners(Handover.Sockets sockets) throws IOException {
                server.sendListeners(sockets);
            }

            @Override
            public void abandon() {
                server.close();
                process.destroyForcibly();
            }

            @Override
            public void finish() {
                server.close();
            }
        };
    }
}
