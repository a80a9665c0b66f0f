package io.prefork.supervisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Renders the workers' status for {@code ctl status}: a table for people, JSON for programs. */
public final class StatusReport {
    /** One worker as {@code ctl status} shows it. rssBytes and the heap's figures are -1 when unknown. */
    record Row(int id, long pid, WorkerState state, String role, Duration uptime, long requests, int restarts,
               long rssBytes, long heapUsedBytes, long heapMaxBytes) {
    }

    private StatusReport() {
    }

    /** Every worker the pool has started and not reaped, with its slot's restarts. */
    static List<Row> rows(WorkerPool pool, long now) {
        List<Row> rows = new ArrayList<>();
        for (Worker w : pool.workers()) {
            Slot slot = pool.slotHolding(w);
            rows.add(new Row(w.id(), w.pid(), w.state(), w.role().label(), Duration.ofNanos(now - w.startedAt()),
                    w.requests(), slot == null ? 0 : slot.restarts, w.process().rssBytes(), w.heapUsed(), w.heapMax()));
        }
        return rows;
    }

    static String render(List<Row> rows, boolean json) {
        return json ? json(rows) : table(rows);
    }

    static String table(List<Row> rows) {
        StringBuilder out = new StringBuilder(String.format("%-4s %-8s %-9s %-10s %9s %9s %8s %8s %11s%n",
                "ID", "PID", "STATE", "ROLE", "UPTIME", "REQUESTS", "RESTARTS", "RSS", "HEAP"));
        for (Row r : rows) {
            out.append(String.format("%-4d %-8d %-9s %-10s %9s %9d %8d %8s %11s%n", r.id(), r.pid(), r.state(), r.role(),
                    uptime(r.uptime()), r.requests(), r.restarts(), r.rssBytes() < 0 ? "-" : (r.rssBytes() >> 20) + "M",
                    r.heapMaxBytes() < 0 ? "-" : (r.heapUsedBytes() >> 20) + "/" + (r.heapMaxBytes() >> 20) + "M"));
        }
        return out.toString();
    }

    static String json(List<Row> rows) {
        StringBuilder out = new StringBuilder("{\"workers\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            out.append(i == 0 ? "" : ",")
                    .append("{\"id\":").append(r.id())
                    .append(",\"pid\":").append(r.pid())
                    .append(",\"state\":\"").append(r.state()).append('"')
                    .append(",\"role\":\"").append(r.role()).append('"')
                    .append(",\"uptime_ms\":").append(r.uptime().toMillis())
                    .append(",\"requests\":").append(r.requests())
                    .append(",\"restarts\":").append(r.restarts())
                    .append(",\"rss_bytes\":").append(r.rssBytes())
                    .append(",\"heap_used_bytes\":").append(r.heapUsedBytes())
                    .append(",\"heap_max_bytes\":").append(r.heapMaxBytes())
                    .append('}');
        }
        return out.append("]}\n").toString();
    }

    private static String uptime(Duration d) {
        long s = d.toSeconds();
        return s < 60 ? s + "s" : s < 3600 ? (s / 60) + "m" + (s % 60) + "s" : (s / 3600) + "h" + (s % 3600 / 60) + "m";
    }
}
