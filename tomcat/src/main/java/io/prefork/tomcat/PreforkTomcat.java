package io.prefork.tomcat;

import io.prefork.worker.Prefork;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.time.Duration;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.ValveBase;

/**
 * Embedded Tomcat (NIO connector) on the listener prefork hands over.
 * <pre>{@code
 * Tomcat tomcat = new Tomcat();
 * PreforkTomcat.useInheritedListener(tomcat.getConnector());
 * tomcat.getEngine().getPipeline().addValve(PreforkTomcat.connectionCloseWhileDraining());
 * ... add the app's context and servlets ...
 * tomcat.start();
 * PreforkTomcat.drainOnStop(tomcat);
 * Prefork.ready();
 * }</pre>
 */
public final class PreforkTomcat {
    private PreforkTomcat() {
    }

    /**
     * The connector accepts on listener 0, the JVM's inherited channel, and binds nothing of its own.
     * Tomcat takes only that one channel: further {@code -b} listeners need other means.
     */
    public static void useInheritedListener(Connector connector) {
        if (Prefork.isSupervised() && !connector.setProperty("useInheritedChannel", "true")) {
            throw new IllegalArgumentException("connector " + connector + " has no useInheritedChannel (NIO only)");
        }
    }

    /**
     * A valve that answers every request with {@code Connection: close} once the worker drains, so
     * each kept-alive client reconnects, to another worker, after its answer; closing an idle
     * keep-alive connection instead would race the client's next request.
     */
    public static ValveBase connectionCloseWhileDraining() {
        return new ValveBase(true) {
            @Override
            public void invoke(Request request, Response response) throws IOException, ServletException {
                if (Prefork.isDraining()) {
                    response.setHeader("Connection", "close");
                }
                getNext().invoke(request, response);
            }
        };
    }

    /**
     * On a graceful stop, once prefork has taken the listener from Tomcat's acceptor (every stop does
     * that first; Tomcat's own pause leaves it in accept(), where it destroys the next connection it
     * takes): wait until the accepted connections are closed, then stop and destroy Tomcat. Tomcat registers no shutdown hook and its own stop
     * closes idle keep-alive connections; this stop does neither to a connection still in use.
     */
    public static void drainOnStop(Tomcat tomcat) {
        Prefork.onStop(timeLeft -> {
            Prefork.awaitConnectionsClosed(timeLeft.minus(Duration.ofSeconds(2)).isNegative() ? Duration.ZERO
                    : timeLeft.minus(Duration.ofSeconds(2)));
            try {
                tomcat.stop();
                tomcat.destroy();
            } catch (LifecycleException e) {
                throw new IllegalStateException("Tomcat did not stop: " + e.getMessage(), e);
            }
        });
    }
}
