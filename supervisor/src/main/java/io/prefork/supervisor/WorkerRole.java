package io.prefork.supervisor;

import java.util.Locale;

/** What a worker process is there for, as `ctl status` and /status show it. */
enum WorkerRole {
    /** Holds a slot and serves. */
    ACTIVE,
    /** Started to take a slot over in a roll or a recycle; the slot's holder stops once it is READY. */
    SUCCESSOR,
    /** A hot spare: booted, no sockets until promoted. */
    SPARE,
    /** The class archive's training run: boots like a spare, is stopped once parked, never serves. */
    TRAINER,
    /** Replaced or removed: draining or about to exit. */
    RETIRING;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
