package io.prefork.supervisor;

import java.util.Locale;

/**
 * What a worker process is there for, as `ctl status`, /status and the log show it. Each worker has
 * exactly one; the pool sets it at launch and changes it on promotion and retirement, and nothing
 * else tells workers apart.
 */
public enum WorkerRole {
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

    /** Spares and the training run boot with no sockets: they get SPARE at the handshake, not FDS. */
    boolean bootsWithoutSockets() {
        return this == SPARE || this == TRAINER;
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
