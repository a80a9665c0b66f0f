package io.prefork.supervisor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Counters the loop keeps for {@code /metrics}, and their rendering in Prometheus' text format
 * (version 0.0.4). Loop thread only: the admin endpoint asks the loop to render.
 */
public final class Metrics {
    /** A listening socket's accept queue: connections waiting for a worker's accept(), and the limit. */
    public record ListenQueue(String address, String slot, int queued, int limit) {
    }

    /** Why a worker was replaced; the label values of prefork_worker_restarts_total. */
    enum Cause {
        EXIT_CODE, SIGNAL, OUT_OF_MEMORY, BOOT_FAILURE, HEARTBEAT_TIMEOUT, RECYCLE, RELOAD, STALL;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Map<String, Long> restarts = new LinkedHashMap<>();
    private final Map<String, Long> rolls = new LinkedHashMap<>();
    private long stalls;
    private final long startedAt;
    /** When a READY worker was last seen; -1 while one is READY now. */
    private long lastReadySeen;

    Metrics(long now) {
        startedAt = now;
        lastReadySeen = now;
        for (Cause c : Cause.values()) {
            if (c != Cause.EXIT_CODE && c != Cause.SIGNAL) {
                restarts.put(key(c, ""), 0L);
            }
        }
        for (String outcome : List.of("completed", "aborted", "cancelled")) {
            rolls.put(outcome, 0L);
        }
    }

    /** {@code detail}: the exit code or the signal's name, empty for the other causes. */
    void restart(Cause cause, String detail) {
        restarts.merge(key(cause, detail), 1L, Long::sum);
    }

    void roll(String outcome) {
        rolls.merge(outcome, 1L, Long::sum);
    }

    void stall() {
        stalls++;
    }

    /** Called each loop step: tracks how long the server has gone without a READY worker. */
    void observe(long now, int readyWorkers) {
        if (readyWorkers > 0) {
            lastReadySeen = -1;
        } else if (lastReadySeen < 0) {
            lastReadySeen = now;
        }
    }

    /** How a worker's unplanned exit is counted, from what the loop knows of it. */
    static Cause classify(Worker w, int exitValue) {
        if (w.dumpRequestedAt() >= 0) {
            return Cause.HEARTBEAT_TIMEOUT;
        }
        if (!w.wasReady()) {
            return Cause.BOOT_FAILURE;
        }
        if (exitValue == io.prefork.protocol.WorkerExitCodes.OUT_OF_MEMORY) {
            return Cause.OUT_OF_MEMORY;
        }
        return ExitStatus.signal(exitValue) > 0 ? Cause.SIGNAL : Cause.EXIT_CODE;
    }

    static String detail(Cause cause, int exitValue) {
        return switch (cause) {
            case SIGNAL -> ExitStatus.signalName(exitValue);
            case EXIT_CODE -> Integer.toString(exitValue);
            default -> "";
        };
    }

    /** The Prometheus text for /metrics and {@code ctl metrics}: the pool as it is now, and the accept queues. */
    String render(long now, WorkerPool pool, List<ListenQueue> queues) {
        observe(now, pool.readyCount());
        Map<WorkerState, Integer> byState = new java.util.EnumMap<>(WorkerState.class);
        for (Worker w : pool.workers()) {
            byState.merge(w.state(), 1, Integer::sum);
        }
        return render(now, pool.size(), byState, StatusReport.rows(pool, now), queues);
    }

    private String render(long now, int desired, Map<WorkerState, Integer> byState, List<StatusReport.Row> workers,
                          List<ListenQueue> queues) {
        StringBuilder out = new StringBuilder();
        family(out, "prefork_workers_desired", "gauge", "Worker slots configured now (-w, TTIN/TTOU, ctl scale).");
        out.append("prefork_workers_desired ").append(desired).append('\n');
        family(out, "prefork_workers", "gauge", "Worker JVMs by lifecycle state, spares included.");
        for (WorkerState s : WorkerState.values()) {
            if (s != WorkerState.EXITED) {
                sample(out, "prefork_workers", Map.of("state", s.name()), byState.getOrDefault(s, 0));
            }
        }
        family(out, "prefork_worker_restarts_total", "counter",
                "Workers replaced, by cause; detail is the exit code or signal where there is one.");
        restarts.forEach((key, n) -> {
            String[] parts = key.split("\u0000", 2);
            sample(out, "prefork_worker_restarts_total", Map.of("cause", parts[0], "detail", parts[1]), n);
        });
        family(out, "prefork_worker_uptime_seconds", "gauge", "Seconds since each worker JVM started.");
        for (StatusReport.Row r : workers) {
            sample(out, "prefork_worker_uptime_seconds", Map.of("worker", Integer.toString(r.id()),
                    "pid", Long.toString(r.pid()), "role", r.role()), r.uptime().toMillis() / 1000.0);
        }
        family(out, "prefork_worker_requests", "gauge", "Requests each worker reported in its last heartbeat.");
        for (StatusReport.Row r : workers) {
            sample(out, "prefork_worker_requests", Map.of("worker", Integer.toString(r.id()),
                    "pid", Long.toString(r.pid()), "role", r.role()), r.requests());
        }
        family(out, "prefork_worker_heap_used_bytes", "gauge", "Heap in use in each JVM worker, from its last heartbeat.");
        for (StatusReport.Row r : workers) {
            if (r.heapMaxBytes() >= 0) {
                sample(out, "prefork_worker_heap_used_bytes", Map.of("worker", Integer.toString(r.id()),
                        "pid", Long.toString(r.pid()), "role", r.role()), r.heapUsedBytes());
            }
        }
        family(out, "prefork_worker_heap_max_bytes", "gauge", "Each JVM worker's maximum heap (-Xmx, or its share's).");
        for (StatusReport.Row r : workers) {
            if (r.heapMaxBytes() >= 0) {
                sample(out, "prefork_worker_heap_max_bytes", Map.of("worker", Integer.toString(r.id()),
                        "pid", Long.toString(r.pid()), "role", r.role()), r.heapMaxBytes());
            }
        }
        family(out, "prefork_listen_queue", "gauge", "Connections in a TCP listener's accept queue, waiting for a worker.");
        for (ListenQueue q : queues) {
            sample(out, "prefork_listen_queue", Map.of("listener", q.address(), "slot", q.slot()), q.queued());
        }
        family(out, "prefork_listen_queue_limit", "gauge", "A TCP listener's accept queue limit (the backlog).");
        for (ListenQueue q : queues) {
            sample(out, "prefork_listen_queue_limit", Map.of("listener", q.address(), "slot", q.slot()), q.limit());
        }
        family(out, "prefork_rolling_restarts_total", "counter", "Rolling restarts (reloads) by outcome.");
        rolls.forEach((outcome, n) -> sample(out, "prefork_rolling_restarts_total", Map.of("outcome", outcome), n));
        family(out, "prefork_stalls_total", "counter",
                "Stalls: connections waited --stall-timeout in the accept queue while no READY worker ran.");
        out.append("prefork_stalls_total ").append(stalls).append('\n');
        family(out, "prefork_seconds_since_ready_worker", "gauge",
                "0 while a worker is READY; else seconds since one last was (or since start).");
        out.append("prefork_seconds_since_ready_worker ")
                .append(lastReadySeen < 0 ? "0" : format(TimeUnit.NANOSECONDS.toMillis(now - lastReadySeen) / 1000.0))
                .append('\n');
        family(out, "prefork_supervisor_uptime_seconds", "gauge", "Seconds since the supervisor started.");
        out.append("prefork_supervisor_uptime_seconds ")
                .append(format(TimeUnit.NANOSECONDS.toMillis(now - startedAt) / 1000.0)).append('\n');
        return out.toString();
    }

    private static String key(Cause cause, String detail) {
        return cause.label() + "\u0000" + detail;
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, Map<String, String> labels, double value) {
        out.append(name).append('{');
        String sep = "";
        for (Map.Entry<String, String> l : new java.util.TreeMap<>(labels).entrySet()) {
            out.append(sep).append(l.getKey()).append("=\"").append(escape(l.getValue())).append('"');
            sep = ",";
        }
        out.append("} ").append(format(value)).append('\n');
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Label values escape backslash, double quote and newline. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
