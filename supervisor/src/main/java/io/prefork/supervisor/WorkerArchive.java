package io.prefork.supervisor;

import java.nio.file.Path;

/**
 * The class archive workers start from (--worker-start fast and trained), as the loop sees it:
 * whether it is there, its training, and (trained) the recording of a better one by a serving
 * worker. The launch edge makes it (ClassArchive) and checks it with the JVM.
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

    /** --worker-start trained: whether the next worker started into a slot should record the cache. */
    boolean wantsRecording();

    void recordingStarted();

    /**
     * After the recording worker exited, having served {@code requests}: moves the cache it wrote
     * into place if it served enough and the JVM accepts it, and returns null, or why not. Blocks.
     */
    String recordingEnded(int exitValue, String cause, long requests);

    /** Where the recorded cache goes. */
    Path recordedFile();
}
