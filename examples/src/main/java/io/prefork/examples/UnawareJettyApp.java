package io.prefork.examples;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * A Jetty 12 app that knows nothing of prefork: no prefork call, no stop handler. Its only nod to
 * being a worker is {@code setInheritChannel(true)}, which any Jetty app may set. It shows what prefork
 * does on its own on a stop (README: "Draining without losing requests"). Run alone, it binds
 * 127.0.0.1:8080 (or {@code [host] [port]}).
 * <ul>
 *   <li>{@code GET /} answers {@code Hello from an unaware app}</li>
 *   <li>{@code GET /sleep?ms=N} answers after N ms</li>
 * </ul>
 */
public final class UnawareJettyApp {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private UnawareJettyApp() {
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setInheritChannel(true);
        connector.setHost(args.length > 0 ? args[0] : "127.0.0.1");
        connector.setPort(args.length > 1 ? Integer.parseInt(args[1]) : 8080);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                response.getHeaders().put("X-Worker-Pid", PID);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                Fields query = Request.extractQueryParameters(request);
                String body;
                if (Request.getPathInContext(request).equals("/sleep")) {
                    long ms = Long.parseLong(query.getValue("ms") == null ? "0" : query.getValue("ms"));
                    Thread.sleep(ms);
                    body = "slept " + ms + " ms\n";
                } else {
                    body = "Hello from an unaware app\n";
                }
                Content.Sink.write(response, true, body, callback);
                return true;
            }
        });
        server.start();
        server.join();
    }
}
