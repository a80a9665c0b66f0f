package io.prefork.examples;

import io.prefork.tomcat.PreforkTomcat;
import io.prefork.worker.Prefork;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.modeler.Registry;

/**
 * Embedded Tomcat 11 as a prefork worker (the README's Tomcat recipe): {@code GET /} answers
 * {@code Hello from Tomcat}, {@code GET /sleep?ms=N} after N ms. Run alone it binds 127.0.0.1:8080.
 */
public final class TomcatApp {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private TomcatApp() {
    }

    public static void main(String[] args) throws Exception {
        // Tomcat registers an MBean for each of its parts unless told not to, and starts the platform
        // MBean server for them: 300 ms more to a plain JVM's first answer, and 16 MiB of its RSS
        // (README, "Making your app a worker"). Spring Boot turns it off too; keep it for JMX monitoring.
        Registry.disableRegistry();
        Tomcat tomcat = new Tomcat();
        Path baseDir = Files.createTempDirectory("tomcat-app-");
        // Tomcat's work files are this JVM's alone: removed as it exits, or every worker leaves one.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(baseDir), "tomcat-app-cleanup"));
        tomcat.setBaseDir(baseDir.toString());
        tomcat.getConnector().setPort(8080);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        PreforkTomcat.useInheritedListener(tomcat.getConnector());
        tomcat.getEngine().getPipeline().addValve(PreforkTomcat.connectionCloseWhileDraining());
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "hello", new Hello());
        context.addServletMappingDecoded("/", "hello");
        tomcat.start();
        PreforkTomcat.drainOnStop(tomcat);
        Prefork.ready();
        tomcat.getServer().await();
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // already gone, or unreadable: nothing more to do at exit
        }
    }

    static final class Hello extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String body = "Hello from Tomcat\n";
            if ("/sleep".equals(request.getRequestURI())) {
                long ms = Long.parseLong(request.getParameter("ms") == null ? "0" : request.getParameter("ms"));
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                body = "slept " + ms + " ms\n";
            }
            response.setContentType("text/plain; charset=utf-8");
            response.setHeader("X-Worker-Pid", PID);
            response.setContentLength(body.length());
            response.getWriter().write(body);
            Prefork.requestDone();
        }
    }
}
