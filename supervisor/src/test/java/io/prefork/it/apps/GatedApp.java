package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PlainApp behind a gate: while the file named by its first argument exists, a new worker waits
 * before it accepts (so, under --ready auto, it never becomes READY). Lets a test make "no worker
 * can get READY" happen and end on demand.
 */
public final class GatedApp {
    private GatedApp() {
    }

    public static void main(String[] args) throws Exception {
        Path hold = Path.of(args[0]);
        while (Files.exists(hold)) {
            Thread.sleep(50);
        }
        PlainApp.main(new String[0]);
    }
}
