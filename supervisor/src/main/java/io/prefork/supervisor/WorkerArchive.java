package io.prefork.supervisor;

import java.nio.file.Path;

/**
 * The class archive workers start from (--worker-start fast), as the loop sees it: whether it is
 * there, and its training. The launch edge makes it (ClassArchive) and checks it with the JVM.
 */
public interface WorkerArchive {
    enum State { MISSING, TRAINING, READY, FAILED }

    Path file();

    State state();

    void trainingStarted();

    /**
     * After the training run exited ({@code cause}: how, as the loop logged it): moves the archive
     * into place if the JVM accepts it, and returns null, or why not. Blocks on a JVM start, so the
     * loop calls it on another thread.
     */
    String trainingEnded(int exitValue, String cause);

    void failed();
}
