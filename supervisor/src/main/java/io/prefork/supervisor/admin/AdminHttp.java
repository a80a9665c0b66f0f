package io.prefork.supervisor.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prefork.supervisor.AdminCommand;
import io.prefork.supervisor.AdminReply;
import io.prefork.supervisor.Daemons;
import io.prefork.supervisor.Event;
import io.prefork.supervisor.Log;
import io.prefork.supervisor.Readiness;
import io.prefork.supervisor.net.Acceptor;
import io.prefork.supervisor.net.BindAddress;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@code --admin-bind}: read-only HTTP for probes and scrapers. /livez and /readyz read the state
 * the loop publishes after each step, so they answer at once even while the loop is busy;
 * /status and /metrics ask the loop, like {@code prefork ctl} does, and give up after a deadline.
 * Nothing here changes anything: control stays on the 0600 admin socket.
 */
public final class AdminHttp implements AutoCloseable {
    /** A loop that has not stepped for this long is not live (it steps at least once a second). */
    static final long LIVE_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long ASK_LOOP_SECONDS = 5;

    /** One answer: status code, content type, body. */
    record Response(int status, String contentType, String body) {
        static Response text(int status, String body) {
            return new Response(status, "text/plain; charset=utf-8", body.endsWith("\n") ? body : body + "\n");
        }
    }

    private final Supplier<Readiness> readiness;
    private final Consumer<Event> loop;
    private final LongSupplier clock;
    private final int minReady;
    private final Log log;
    private HttpServer tcp;
    private UnixHttpServer unix;
    private ExecutorService executor;

    public AdminHttp(Supplier<Readiness> readiness, Consumer<Event> loop, LongSupplier clock, int minReady, Log log) {
        this.log = log;
        this.readiness = readiness;
        this.loop = loop;
        this.clock = clock;
        this.minReady = minReady;
    }

    /** Starts serving on {@code bind}; returns the address it really got (the port after a port-0 bind). */
    /** @param replaceLive take the path over from a live server (the old supervisor, in an upgrade) */
    public String start(BindAddress bind, boolean replaceLive) throws IOException {
        if (bind.isUnix()) {
            unix = UnixHttpServer.start(bind, replaceLive, this::answer, new Acceptor("admin http", log));
            return bind.toString();
        }
        // The JDK server reads these once, when the first server is made: a request must arrive
        // within 5 s and be answered within 10 s, and idle keep-alive connections are capped.
        System.setProperty("sun.net.httpserver.maxReqTime", "5");
        System.setProperty("sun.net.httpserver.maxRspTime", "10");
        System.setProperty("sun.net.httpserver.maxIdleConnections", "16");
        System.setProperty("sun.net.httpserver.maxConnections", "64");
        tcp = HttpServer.create(bind.inet(), 16);
        executor = Executors.newFixedThreadPool(2, Daemons.named("prefork-admin-http"));
        tcp.createContext("/", this::exchange);
        tcp.setExecutor(executor);
        tcp.start();
        return BindAddress.format(tcp.getAddress());
    }

    private void exchange(HttpExchange exchange) throws IOException {
        try (exchange) {
            Response r = answer(exchange.getRequestMethod(), exchange.getRequestURI().getPath());
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", r.contentType());
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(r.status(), head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /** The routes, shared by the TCP and the Unix server. */
    Response answer(String method, String path) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return Response.text(405, "only GET and HEAD");
        }
        return switch (path) {
            case "/livez" -> livez();
            case "/readyz" -> readyz();
            case "/status" -> askLoop(AdminCommand.STATUS, List.of("--json"), "application/json");
            case "/metrics" -> askLoop(AdminCommand.METRICS, List.of(), "text/plain; version=0.0.4; charset=utf-8");
            default -> Response.text(404, "not found; try /livez, /readyz, /status or /metrics");
        };
    }

    private Response livez() {
        long idle = clock.getAsLong() - readiness.get().steppedAt();
        if (idle > LIVE_NANOS) {
            return Response.text(503, "the supervisor loop has not run for " + TimeUnit.NANOSECONDS.toSeconds(idle) + " s");
        }
        return Response.text(200, "ok");
    }

    private Response readyz() {
        Readiness r = readiness.get();
        String counts = r.ready() + "/" + r.slots() + " workers READY";
        if (r.stopping()) {
            return Response.text(503, "stopping (" + counts + ")");
        }
        if (r.ready() < minReady) {
            return Response.text(503, "not ready: " + counts + ", --min-ready " + minReady);
        }
        return Response.text(200, "ready: " + counts);
    }

    private Response askLoop(AdminCommand command, List<String> args, String contentType) {
        CompletableFuture<AdminReply> reply = new CompletableFuture<>();
        loop.accept(new Event.AdminRequest(command.word(), args, reply));
        try {
            AdminReply r = reply.get(ASK_LOOP_SECONDS, TimeUnit.SECONDS);
            return r.ok() ? new Response(200, contentType, r.text()) : Response.text(500, r.text());
        } catch (TimeoutException e) {
            return Response.text(503, "the supervisor loop did not answer within " + ASK_LOOP_SECONDS + " s");
        } catch (ExecutionException e) {
            return Response.text(500, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.text(503, "interrupted");
        }
    }

    @Override
    public void close() {
        if (tcp != null) {
            tcp.stop(0);
            executor.shutdownNow();
        }
        if (unix != null) {
            unix.close();
        }
    }
}
