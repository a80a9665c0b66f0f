package io.prefork.supervisor;

import java.io.IOException;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/** Which listening sockets each worker slot gets (the same for all, or its own with reuseport). */
public interface ListenerSource {
    List<Handoff> forSlot(int slotId) throws IOException;

    /** The slot is gone; sockets that were only its own may close. */
    default void slotRemoved(int slotId) {
    }

    /** The TCP listeners' accept queues, for /metrics. */
    default List<Metrics.ListenQueue> queues() {
        return List.of();
    }

    /** Sockets that belong to one slot alone (reuseport), by slot, slot 1's excepted: they are {@code forSlot(1)}. */
    default SortedMap<Integer, List<Handoff>> ownSockets() {
        return new TreeMap<>();
    }
}
