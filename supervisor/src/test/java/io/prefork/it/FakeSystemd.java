package io.prefork.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.unix.FdPassing;
import io.prefork.unix.Fds;
import io.prefork.unix.NativeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketOptions;

/**
 * Plays systemd's side of sd_notify: a Unix datagram socket (a path, or '@' and an abstract name)
 * that keeps every message with the time it arrived and any fds it carried (FDSTORE=1).
 */
final class FakeSystemd implements AutoCloseable {
    /** One datagram: its text, when it arrived (System.nanoTime), and the fds that came with it. */
    record Notification(long at, String text, List<Integer> fds) {
        boolean has(String line) {
            return ("\n" + text + "\n").contains("\n" + line + "\n");
        }

        String value(String key) {
            for (String line : text.split("\n")) {
                if (line.startsWith(key + "=")) {
                    return line.substring(key.length() + 1);
                }
            }
            return null;
        }
    }

    private final String address;
    private final UnixDatagramChannel channel;
    private final List<Notification> received = new ArrayList<>();
    private final Thread reader;
    private volatile boolean open = true;

    private FakeSystemd(String address, UnixDatagramChannel channel) {
        this.address = address;
        this.channel = channel;
        this.reader = new Thread(this::readLoop, "fake-systemd");
        reader.setDaemon(true);
        reader.start();
    }

    static FakeSystemd listen(String address) throws IOException {
        UnixDatagramChannel channel = UnixDatagramChannel.open();
        channel.bind(new UnixSocketAddress(address.startsWith("@") ? "\0" + address.substring(1) : address));
        channel.setOption(UnixSocketOptions.SO_RCVTIMEO, 100);
        return new FakeSystemd(address, channel);
    }

    String address() {
        return address;
    }

    private void readLoop() {
        byte[] buf = new byte[4096];
        while (open) {
            List<Integer> fds = new ArrayList<>();
            try {
                int n = FdPassing.INSTANCE.receive(channel.getFD(), buf, fds);
                if (n > 0) {
                    synchronized (received) {
                        received.add(new Notification(System.nanoTime(), new String(buf, 0, n, StandardCharsets.UTF_8),
                                List.copyOf(fds)));
                    }
                }
            } catch (NativeException e) {
                // the receive timeout: look at `open` again
            }
        }
    }

    List<Notification> all() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** Waits for the first message after index {@code from} that matches; returns its index. */
    int await(int from, Predicate<Notification> wanted, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Notification> all = all();
            for (int i = from; i < all.size(); i++) {
                if (wanted.test(all.get(i))) {
                    return i;
                }
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for a notification: " + what
                        + "; got: " + all.stream().map(Notification::text).toList());
            }
            RunningSupervisor.pause(10);
        }
    }

    @Override
    public void close() throws Exception {
        open = false;
        reader.join(2000);
        for (Notification n : all()) {
            for (int passed : n.fds()) {
                Fds.close(passed);
            }
        }
        channel.close();
        if (!address.startsWith("@")) {
            Files.deleteIfExists(Path.of(address));
        }
    }
}
