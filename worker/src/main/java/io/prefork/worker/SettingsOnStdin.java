package io.prefork.worker;

import io.prefork.protocol.WorkerEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A worker that scripts/prefork started beside the supervisor ({@link WorkerEnvironment#STARTED_BESIDE})
 * learns this start's settings on stdin, once the supervisor takes it: NAME=value lines, then an
 * empty line. Read byte by byte, so nothing past that line is taken from the pipe.
 */
final class SettingsOnStdin {
    private static final int LIMIT = 64 * 1024;

    private SettingsOnStdin() {
    }

    /** The environment with the settings read over it; null at end of file before the empty line. */
    static Map<String, String> read(Map<String, String> environment) throws IOException {
        @SuppressWarnings("resource")  // stdin stays open: the worker puts listener 0 there later
        InputStream in = new FileInputStream(FileDescriptor.in);
        return read(in, environment);
    }

    static Map<String, String> read(InputStream in, Map<String, String> environment) throws IOException {
        Map<String, String> settings = new HashMap<>(environment);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int total = 0;
        for (int b = in.read(); b != -1; b = in.read()) {
            if (++total > LIMIT) {
                throw new IOException("more than " + LIMIT + " bytes of settings on stdin");
            }
            if (b != '\n') {
                line.write(b);
                continue;
            }
            String entry = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (entry.isEmpty()) {
                return settings;
            }
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IOException("not a NAME=value line on stdin: " + entry);
            }
            settings.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return null;
    }
}
