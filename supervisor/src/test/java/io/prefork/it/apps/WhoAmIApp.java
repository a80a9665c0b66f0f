package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import java.nio.file.Files;
import java.nio.file.Path;

/** PlainApp that first prints who its main runs as, from /proc/self/status. */
public final class WhoAmIApp {
    private WhoAmIApp() {
    }

    public static void main(String[] args) throws Exception {
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElse("Uid: ?").replaceAll("\\s+", " ");
        System.out.println("app main runs with " + uid);
        PlainApp.main(args);
    }
}
