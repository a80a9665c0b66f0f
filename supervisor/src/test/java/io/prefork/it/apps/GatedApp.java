package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PlainApp behind a gate: while the file named by its first argument exists, a new worker waits
 * before it accepts (so, under --ready auto, it never becomes READY). Lets a test make "no worker
 * can get READY" happen and end on demand. With "spin" as its second argument, a worker past the
 * gate also keeps one thread busy, as a worker under load would be.
 */
public final class GatedApp {
    private GatedApp() {
    }

    public static void main(String[] args) throws Exception {
        Path hold = Path.of(args[0]);
        while (Files.exists(hold)) {
            Thread.sleep(50);
        }
        if (args.length > 1 && args[1].equals("spin")) {
            Thread spin = new Thread(() -> {
                long sink = 0;
                while (sink != 42) {
                    sink = sink * 31 + 7;
                }
            }, "gated-spin");
            spin.setDaemon(true);
            spin.start();
        }
        PlainApp.main(new String[0]);
    }
}
