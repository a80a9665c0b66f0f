package io.prefork.it.apps;

/** A worker app that fails at start, as one with a broken configuration would. */
public final class ThrowingApp {
    private ThrowingApp() {
    }

    public static void main(String[] args) {
        throw new IllegalStateException("configuration is broken");
    }
}
