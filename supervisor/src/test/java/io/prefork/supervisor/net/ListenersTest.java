package io.prefork.supervisor.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.supervisor.Fakes;
import io.prefork.supervisor.Handoff;
import io.prefork.unix.Fds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What a new supervisor makes of the sockets an upgrade hands it: real sockets on loopback, port 0. */
class ListenersTest {
    private final Fakes.Lines lines = new Fakes.Lines();

    /** "socket:[inode]": which socket an fd is. */
    private static String socketOf(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    private static boolean isOpen(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd));
    }

    /** What SCM_RIGHTS gives the new supervisor: copies of the old one's fds. */
    private static List<Integer> copies(List<Handoff> handoffs) throws IOException {
        List<Integer> fds = new ArrayList<>();
        for (Handoff h : handoffs) {
            fds.add(Fds.dup(h.fd()));
        }
        return fds;
    }

    private static SortedMap<Integer, List<Integer>> copies(Map<Integer, List<Handoff>> bySlot) throws IOException {
        SortedMap<Integer, List<Integer>> fds = new TreeMap<>();
        for (Map.Entry<Integer, List<Handoff>> e : bySlot.entrySet()) {
            fds.put(e.getKey(), copies(e.getValue()));
        }
        return fds;
    }

    private static Listeners open(Listeners.Balance balance) throws Exception {
        return Listeners.open(List.of(BindAddress.parse("127.0.0.1:0"), BindAddress.parse("127.0.0.1:0")), 16, balance);
    }

    @Test
    void reuseportSlotsGetTheirOwnSocketsBackAndASlotPastTheWorkerCountClosesItsOwn() throws Exception {
        try (Listeners old = open(Listeners.Balance.REUSEPORT)) {
            List<List<String>> sockets = new ArrayList<>();
            for (int slot = 1; slot <= 3; slot++) {
                List<String> own = new ArrayList<>();
                for (Handoff h : old.forSlot(slot)) {
                    own.add(socketOf(h.fd()));
                }
                sockets.add(own);
            }
            assertEquals(6, Set.copyOf(sockets.stream().flatMap(List::stream).toList()).size(), "2 binds x 3 slots");
            SortedMap<Integer, List<Integer>> slots = copies(old.ownSockets());
            assertEquals(Set.of(2, 3), slots.keySet());
            List<Integer> slot3 = slots.get(3);

            try (Listeners taken = Listeners.takeOver(copies(old.forSlot(1)), slots, 16, Listeners.Balance.REUSEPORT, 2, lines.log)) {
                for (int slot = 1; slot <= 2; slot++) {
                    List<String> now = new ArrayList<>();
                    for (Handoff h : taken.forSlot(slot)) {
                        now.add(socketOf(h.fd()));
                    }
                    assertEquals(sockets.get(slot - 1), now, "slot " + slot + " has its very sockets again");
                }
                assertFalse(slot3.stream().anyMatch(ListenersTest::isOpen), "slot 3's copies are closed: -w 2 has no slot 3");
                assertTrue(lines.text().contains("upgrade: slot 3's own socket(s) close: no such slot here (-w 2)"), lines.text());
                // Still reuseport: a slot added later binds sockets of its own on the same ports.
                List<Handoff> fresh = taken.forSlot(3);
                for (int i = 0; i < 2; i++) {
                    assertEquals(taken.forSlot(1).get(i).address(), fresh.get(i).address());
                    assertFalse(sockets.stream().flatMap(List::stream).toList().contains(socketOf(fresh.get(i).fd())));
                }
            }
        }
    }

    @Test
    void aSharedConfigurationClosesTheSlotsOwnSocketsAndSharesTheFirst() throws Exception {
        try (Listeners old = open(Listeners.Balance.REUSEPORT)) {
            old.forSlot(2);
            SortedMap<Integer, List<Integer>> slots = copies(old.ownSockets());
            try (Listeners taken = Listeners.takeOver(copies(old.forSlot(1)), slots, 16, Listeners.Balance.SHARED, 2, lines.log)) {
                assertFalse(slots.get(2).stream().anyMatch(ListenersTest::isOpen));
                assertEquals(socketOf(taken.forSlot(1).get(0).fd()), socketOf(taken.forSlot(2).get(0).fd()), "shared");
                assertTrue(taken.ownSockets().isEmpty());
                assertTrue(lines.text().contains("this supervisor does not balance by reuseport"), lines.text());
            }
        }
    }

    @Test
    void reuseportOverSocketsBoundWithoutItFallsBackToSharing() throws Exception {
        try (Listeners old = open(Listeners.Balance.SHARED)) {
            try (Listeners taken = Listeners.takeOver(copies(old.forSlot(1)), new TreeMap<>(), 16,
                    Listeners.Balance.REUSEPORT, 2, lines.log)) {
                // binding a second socket on the port would fail: the first has no SO_REUSEPORT
                assertEquals(socketOf(old.first().get(0).fd()), socketOf(taken.forSlot(2).get(0).fd()));
                assertNotEquals(old.first().get(0).fd(), taken.forSlot(2).get(0).fd(), "a copy");
                assertTrue(lines.text().contains("the sockets taken over were not bound for it; the workers share them"), lines.text());
            }
        }
    }
}
