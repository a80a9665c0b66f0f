package io.prefork.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * --warmup-requests: N requests through a {@link WarmUp}, sent by several client threads at once, as
 * real traffic comes. One at a time, the app's pools, queues and locks never see contention, and the
 * first real requests would pay for those paths with deoptimizations and recompiles.
 */
final class WarmUpRun {
    /** Client threads of a warm-up; the requests are shared among them. */
    static final int CLIENTS = io.prefork.protocol.WorkerEnvironment.WARMUP_CLIENTS;

    private WarmUpRun() {
    }

    /** Runs {@code n} requests to {@code path}, then {@link WarmUp#finished()}; null, or what failed. */
    static String run(WarmUp warmUp, int n, String path) throws InterruptedException {
        AtomicInteger left = new AtomicInteger(n);
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < Math.min(CLIENTS, n); i++) {
            Thread client = new Thread(() -> {
                try {
                    while (failed.get() == null && left.getAndDecrement() > 0) {
                        warmUp.request(path);
                    }
                } catch (Exception e) {
                    failed.compareAndSet(null, e);
                }
            }, "prefork-warm-up-client-" + (i + 1));
            client.setDaemon(true);
            clients.add(client);
            client.start();
        }
        for (Thread client : clients) {
            client.join();
        }
        try {
            warmUp.finished();
        } catch (Exception e) {
            failed.compareAndSet(null, e);
        }
        Exception e = failed.get();
        return e == null ? null : e.toString();
    }
}
