package io.prefork.supervisor.launch;

/** --worker-start: what a worker JVM starts from. */
public enum WorkerStart {
    /** The JVM as it comes. */
    PLAIN,
    /** A class archive trained by one boot (AppCDS on JDK 17-23, the AOT cache on 24+). */
    FAST,
    /** As FAST, then an AOT cache recorded by a worker that served real traffic (JDK 24+; FAST before). */
    TRAINED
}
