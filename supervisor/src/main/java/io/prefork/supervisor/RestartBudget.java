package io.prefork.supervisor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code --max-restarts N --restart-window S}: more than N unplanned worker restarts within S
 * seconds means something is wrong that restarting will not fix (an out-of-memory loop, a bad
 * deploy that crashes under traffic). The supervisor then stops and exits non-zero, so systemd or
 * Kubernetes sees it, instead of respawning forever as gunicorn does. Loop thread only.
 */
public final class RestartBudget {
    private record Restart(long at, String cause) {
    }

    private final Deque<Restart> recent = new ArrayDeque<>();

    /**
     * Counts one unplanned restart; returns the one-line summary if it goes over the budget, else
     * null. {@code max} 0 means no budget.
     */
    String record(long now, String cause, int max, Duration window) {
        if (max <= 0) {
            return null;
        }
        recent.addLast(new Restart(now, cause));
        while (!recent.isEmpty() && now - recent.peekFirst().at() > window.toNanos()) {
            recent.removeFirst();
        }
        if (recent.size() <= max) {
            return null;
        }
        Map<String, Long> byCause = recent.stream()
                .collect(Collectors.groupingBy(Restart::cause, LinkedHashMap::new, Collectors.counting()));
        String causes = byCause.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> e.getValue() + " " + e.getKey())
                .collect(Collectors.joining(", "));
        return recent.size() + " unplanned worker restarts within " + Settings.seconds(window)
                + " s (--max-restarts " + max + "): " + causes;
    }
}
