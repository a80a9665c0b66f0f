package io.prefork.supervisor;

import io.prefork.protocol.ControlMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Everything that happens to the supervisor arrives as one of these, on one queue, and only the loop
 * thread acts on it. Signal handlers, exit callbacks and control readers only enqueue.
 */
public sealed interface Event {
    record SignalReceived(HandledSignal signal) implements Event {
    }

    record WorkerExited(Worker worker, int exitValue) implements Event {
    }

    record Hello(WorkerConnection connection, String token) implements Event {
    }

    record Message(WorkerConnection connection, ControlMessage message) implements Event {
    }

    record ConnectionClosed(WorkerConnection connection) implements Event {
    }

    /** Upgrade: the new supervisor connected to the upgrade socket. */
    record UpgradeConnected() implements Event {
    }

    /** Upgrade: a message from the new supervisor (READY, or FAILED with a reason). */
    record UpgradeMessage(ControlMessage message) implements Event {
    }

    /** Upgrade: the new supervisor hung up or exited. */
    record UpgradeEnded(String why) implements Event {
    }

    /** A reload's configuration, read off the loop: the next generation, or why it was refused. */
    record ConfigRead(Request request, Generation generation, String refusal) implements Event {
        /** Which reload asked, who waits for its roll, and what to go back to if the roll aborts. */
        public record Request(String why, List<CompletableFuture<AdminReply>> waiters, Generation previous) {
        }
    }

    /** The JVM's verdict on what the class archive's training run wrote: null if it took it. */
    record ArchiveChecked(WorkerArchive archive, boolean recorded, String refusal) implements Event {
    }

    /** A command from the admin socket; the loop completes {@code reply} when it is done. */
    record AdminRequest(String command, List<String> args, CompletableFuture<AdminReply> reply) implements Event {
    }
}
