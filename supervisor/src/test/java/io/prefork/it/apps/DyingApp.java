package io.prefork.it.apps;

import io.prefork.worker.Prefork;

/** A worker that says READY and dies 100 ms later, every time: a crash loop under traffic. */
public final class DyingApp {
    private DyingApp() {
    }

    public static void main(String[] args) throws Exception {
        Prefork.ready();
        Thread.sleep(100);
        Runtime.getRuntime().halt(1);
    }
}
