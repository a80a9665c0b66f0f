package io.prefork.it;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The fleet's client, run as its own JVM inside the balancer's network namespace (FleetIT): {@link Load}
 * against HAProxy on 127.0.0.1:PORT, keep-alive and new connections both. It prints "STARTED", then
 * on each "report" line from stdin, and at the end of stdin, a report: "OK n", one "FAILURE ..."
 * line per failed request, "RATE r", then "END".
 */
public final class FleetClient {
    private FleetClient() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        int rpsPerThread = Integer.parseInt(args[2]);
        try (Load load = Load.start(port, threads, threads, rpsPerThread)) {
            System.out.println("STARTED");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.equals("report")) {
                    report(load);
                }
            }
            report(load);
        }
    }

    private static void report(Load load) {
        StringBuilder b = new StringBuilder("OK " + load.ok() + "\n");
        for (Load.Failure f : load.failures()) {
            b.append("FAILURE ").append(f.what()).append(f.keepAlive() ? " (kept-alive connection)" : "").append('\n');
        }
        b.append(String.format(java.util.Locale.ROOT, "RATE %.1f%nEND%n", load.rate()));
        System.out.print(b);
        System.out.flush();
    }
}
