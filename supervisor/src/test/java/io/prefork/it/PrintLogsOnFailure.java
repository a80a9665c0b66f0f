package io.prefork.it;

import java.util.List;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * When a test fails, prints the log of every supervisor it started: the supervisor's own lines and
 * its workers' (they share its stderr), so a failure in CI explains itself. Registered for every
 * test through META-INF/services and junit-platform.properties.
 */
public final class PrintLogsOnFailure implements BeforeEachCallback, TestExecutionExceptionHandler {
    private static final int MAX_LINES = 400;

    @Override
    public void beforeEach(ExtensionContext context) {
        RunningSupervisor.forgetStarted();
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        List<RunningSupervisor> started = RunningSupervisor.started();
        for (int i = 0; i < started.size(); i++) {
            RunningSupervisor s = started.get(i);
            List<String> lines = s.logText().lines().toList();
            int from = Math.max(0, lines.size() - MAX_LINES);
            System.out.printf("%n===== %s failed: log of supervisor %d of %d (pid %d)%s =====%n",
                    context.getDisplayName(), i + 1, started.size(), s.pid(),
                    from > 0 ? ", its last " + MAX_LINES + " of " + lines.size() + " lines" : "");
            lines.subList(from, lines.size()).forEach(System.out::println);
            System.out.println("===== end of the log of supervisor pid " + s.pid() + " =====");
        }
        throw failure;
    }
}
