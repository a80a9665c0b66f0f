package io.prefork.it.apps;

import io.prefork.examples.PlainApp;
import io.prefork.worker.Prefork;

/**
 * Registers its warm-up and stop handler on its first line, while the worker still connects to the
 * supervisor beside it, then serves as PlainApp. Prints what it did, for the test to read.
 */
public final class EarlyApp {
    private EarlyApp() {
    }

    public static void main(String[] args) throws Exception {
        boolean connecting = Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("prefork-connect"));
        System.out.println("early app: main started while the worker connects: " + connecting);
        Prefork.onWarmUp(path -> System.out.println("early app: warm-up request to " + path));
        Prefork.onStop(timeLeft -> System.out.println("early app: stop handler ran"));
        System.out.println("early app: supervised: " + Prefork.isSupervised() + ", " + Prefork.listeners().size() + " listener(s)");
        PlainApp.main(new String[0]);
    }
}
