package io.prefork.supervisor.launch;

import io.prefork.posix.CpuPriority;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * --boot-nice: the nice value a worker JVM boots at while others serve (a roll's successor, a spare,
 * a recycle's replacement), so that it takes what CPU the serving workers leave rather than half of
 * it; it is lifted back to the supervisor's own value once it serves. Lowering is free, lifting
 * needs CAP_SYS_NICE or a nice limit: without either, workers boot at the normal value.
 *
 * @param normal  the supervisor's own nice value, which serving workers run at
 * @param booting the value a yielding boot runs at; equal to {@code normal} when off
 */
public record BootPriority(int normal, int booting) {
    public static final BootPriority OFF = new BootPriority(0, 0);

    /** From --boot-nice; warns (once per configuration) when it cannot be used. */
    public static BootPriority choose(int bootNice, Consumer<String> warn) {
        if (bootNice == 0) {
            return OFF;
        }
        try {
            int normal = CpuPriority.ofThisThread();
            if (!CpuPriority.mayRaiseTo(normal)) {
                warn.accept("--boot-nice " + bootNice + ": worker JVMs boot at the normal CPU priority: lifting one"
                        + " back needs CAP_SYS_NICE or a nice limit of at least " + (20 - normal)
                        + " (ulimit -e; systemd: LimitNICE=" + (normal >= 0 ? "+" : "") + normal + ")");
                return new BootPriority(normal, normal);
            }
            return new BootPriority(normal, Math.min(19, normal + bootNice));
        } catch (IOException | RuntimeException e) {
            warn.accept("--boot-nice " + bootNice + ": worker JVMs boot at the normal CPU priority: " + e.getMessage());
            return OFF;
        }
    }

    boolean yields() {
        return booting > normal;
    }
}
