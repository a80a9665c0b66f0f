package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.protocol.ControlMessage;
import io.prefork.protocol.MessageType;
import io.prefork.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzing what reaches the loop from outside: control-protocol lines (the parser, then the loop that
 * acts on what a worker says) and admin requests. Each input may be refused, but never with an
 * exception the code did not mean, never by stopping the loop, and never by hanging.
 */
@Timeout(120)
class LoopFuzzTest extends SupervisorTestBase {
    private static final List<String> CONTROL_SEEDS = List.of("HELLO 0123456789abcdef", "READY", "HEARTBEAT 12",
            "HEARTBEAT 12 1048576 268435456", "RECYCLE 1000", "BOOT_ERROR the%20app%20threw", "WARMED 500 830", "PARKED",
            "FDS 127.0.0.1:8080 unix:/tmp/a%20b.sock", "STOP 30000", "SPARE", "PROMOTE [::1]:8080", "REOPEN", "");
    private static final List<String> ADMIN_SEEDS = List.of("status", "status --json", "metrics", "reload", "scale 3",
            "scale 0", "scale -1", "ttin", "ttou", "reopen", "upgrade", "help", "workers", "");

    @Test
    void controlLinesParseOrAreRefusedAndRoundTrip() {
        Fuzz fuzz = new Fuzz(Fuzz.SEED);
        for (int i = 0; i < Fuzz.INPUTS; i++) {
            String line = wire(fuzz.input(CONTROL_SEEDS));
            ControlMessage m = parsedOrNull(line);
            if (m == null) {
                continue;
            }
            byte[] encoded;
            try {
                encoded = m.encode();
            } catch (IllegalArgumentException tooLong) {
                continue;  // a line over MAX_LINE: neither side sends or reads one
            }
            String again = new String(encoded, StandardCharsets.UTF_8);
            try {
                assertEquals(m, ControlMessage.parse(again.substring(0, again.length() - 1)), () -> "round trip of " + quote(line));
            } catch (ProtocolException e) {
                fail("what encode() wrote does not parse: " + quote(again), e);
            }
        }
    }

    @Test
    void whatAWorkerSaysNeverBreaksTheLoop() throws Exception {
        Fuzz fuzz = new Fuzz(Fuzz.SEED + 1);
        start(2);
        List<Fakes.Connection> connections = new ArrayList<>();
        for (Fakes.Process p : launcher.alive()) {
            connections.add(bringUp(p));
        }
        for (int i = 0; i < Fuzz.INPUTS; i++) {
            String line = wire(fuzz.input(CONTROL_SEEDS));
            ControlMessage m = parsedOrNull(line);
            if (m == null) {
                continue;  // the reader drops the connection
            }
            Fakes.Connection c = fuzz.pick(connections);
            supervisor.post(new Event.Message(c, m));
            try {
                assertTrue(step(), () -> "the loop stopped after " + quote(line) + ":\n" + lines.text());
            } catch (RuntimeException e) {
                throw new AssertionError("the loop threw on " + m.type() + " " + m.args() + " from pid " + c.peerPid(), e);
            }
            clock.advanceMillis(fuzz.random().nextInt(50));
            // Workers the loop ended, or that a message sent astray: end them, and bring up what replaces them.
            for (Fakes.Process p : launcher.launched) {
                if ((p.kills > 0 || p.terms > 0) && !p.exit.isDone()) {
                    p.exit(137);
                }
            }
            step();
            for (Fakes.Process p : launcher.alive()) {
                if (connections.stream().noneMatch(x -> x.peerPid == p.pid)) {
                    connections.add(bringUp(p));
                }
            }
            connections.removeIf(x -> launcher.launched.stream().anyMatch(p -> p.pid == x.peerPid && p.exit.isDone()));
            if (connections.isEmpty()) {
                clock.advanceMillis(31_000);
                step();
                for (Fakes.Process p : launcher.alive()) {
                    connections.add(bringUp(p));
                }
            }
        }
        assertTrue(step(), lines.text());
    }

    @Test
    void adminRequestsNeverBreakTheLoop() throws Exception {
        Fuzz fuzz = new Fuzz(Fuzz.SEED + 2);
        start(2);
        for (Fakes.Process p : launcher.alive()) {
            bringUp(p);
        }
        for (int i = 0; i < Fuzz.INPUTS / 4; i++) {
            List<String> words = new ArrayList<>(Arrays.asList(fuzz.input(ADMIN_SEEDS).split(" ", -1)));
            CompletableFuture<AdminReply> reply = new CompletableFuture<>();
            supervisor.post(new Event.AdminRequest(words.get(0), words.subList(1, words.size()), reply));
            boolean running;
            try {
                running = step();
            } catch (RuntimeException e) {
                throw new AssertionError("the loop threw on the admin request " + words, e);
            }
            assertTrue(reply.isDone() || words.get(0).equals("reload") || words.get(0).equals("upgrade"),
                    () -> "no answer to " + words);
            for (Fakes.Process p : launcher.alive()) {
                if (p.kills > 0 || p.terms > 0) {
                    p.exit(0);
                }
            }
            if (!running || !step()) {
                start(2);  // a request that stopped it (there is none today, but the fuzzer may find one)
            }
            for (Fakes.Process p : launcher.alive()) {
                if (worker(p.pid) != null && worker(p.pid).state() == WorkerState.STARTING) {
                    bringUp(p);
                }
            }
            clock.advanceMillis(fuzz.random().nextInt(200));
        }
    }

    /** The message, or null if the parser refused the line as it should (ProtocolException); anything else fails. */
    private static ControlMessage parsedOrNull(String line) {
        try {
            return ControlMessage.parse(line);
        } catch (ProtocolException refused) {
            return null;
        } catch (RuntimeException e) {
            throw new AssertionError("parse(" + quote(line) + ") threw " + e, e);
        }
    }

    /** What a line is once it has crossed the socket: UTF-8 bytes decoded (a lone surrogate cannot arrive). */
    private static String wire(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            b.append(c < 32 || c > 126 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.append('"').toString();
    }
}
