package io.prefork.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recipes in scripts/ for systemd, supervisord, Docker and Kubernetes: the unit files pass
 * systemd-analyze verify, and every stop timeout covers prefork's own --lame-duck + --graceful-timeout,
 * so no manager SIGKILLs a supervisor that is still draining on schedule.
 */
class RecipesIT {
    private static final Path SCRIPTS = RunningSupervisor.HOME.resolve("scripts");

    @TempDir
    Path dir;

    @Test
    void theSystemdUnitsPassSystemdAnalyzeVerify() throws Exception {
        String analyze = Tools.require("systemd-analyze", "Debian package systemd");
        // verify checks that ExecStart= exists: point it at this checkout, as an install would.
        String service = Files.readString(SCRIPTS.resolve("systemd/prefork.service"))
                .replace("/opt/prefork", SCRIPTS.getParent().toString());
        Files.writeString(dir.resolve("prefork.service"), service);
        Files.copy(SCRIPTS.resolve("systemd/prefork.socket"), dir.resolve("prefork.socket"));
        Process p = new ProcessBuilder(analyze, "verify", "prefork.service", "prefork.socket").directory(dir.toFile())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze verify finished");
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
        int version = systemdVersion(analyze);
        for (String line : out.lines().filter(l -> !l.isBlank()).toList()) {
            // Type=notify-reload is systemd 253+; older versions say so and are covered by the unit's comment.
            boolean known = version < 253 && line.endsWith("Failed to parse service type, ignoring: notify-reload");
            assertTrue(known, "systemd " + version + " complains: " + line);
        }
    }

    @Test
    void everyStopTimeoutCoversTheLameDuckAndTheGracefulTimeout() throws Exception {
        String service = Files.readString(SCRIPTS.resolve("systemd/prefork.service"));
        assertTrue(seconds(service, "TimeoutStopSec=(\\d+)") > drain(service), "systemd TimeoutStopSec");
        assertTrue(service.contains("KillMode=mixed"), "TERM to the supervisor alone, KILL to all at the end");

        String supervisord = Files.readString(SCRIPTS.resolve("supervisord/prefork.conf"));
        assertTrue(seconds(supervisord, "stopwaitsecs=(\\d+)") > drain(supervisord), "supervisord stopwaitsecs");
        assertTrue(supervisord.contains("stopsignal=TERM") && supervisord.contains("killasgroup=true"));

        String docker = Files.readString(SCRIPTS.resolve("docker/Dockerfile"));
        assertTrue(drain(docker.replace("\"", "").replace(",", "")) < 10, "under docker stop's default 10 s");
        assertTrue(docker.contains("STOPSIGNAL SIGTERM"));

        String k8s = Files.readString(SCRIPTS.resolve("k8s/deployment.yaml"));
        String args = k8s.replace("\"", "").replace(",", "");
        assertTrue(seconds(k8s, "terminationGracePeriodSeconds: (\\d+)") > drain(args), "terminationGracePeriodSeconds");
        assertTrue(k8s.contains("path: /readyz") && k8s.contains("path: /livez"), "probes on the admin endpoint");
    }

    /**
     * A balancer must take a host out while it still serves: its health checks see /readyz turn 503
     * within (fall + 1) x inter (one check may have just passed), which must be shorter than the
     * host's --lame-duck. For HAProxy (haproxy.cfg, and the hosts' command line in the README's
     * "Beyond one machine"), and for Kubernetes' readiness probe.
     */
    @Test
    void balancersTakeAHostOutWithinItsLameDuck() throws Exception {
        String cfg = Files.readString(SCRIPTS.resolve("haproxy/haproxy.cfg"));
        long inter = seconds(cfg, "inter (\\d+)ms");
        long fall = seconds(cfg, "fall (\\d+)");
        String readme = Files.readString(SCRIPTS.getParent().resolve("README.md"));
        String fleet = readme.substring(readme.indexOf("## Beyond one machine"));
        long lameDuck = seconds(fleet, "--lame-duck (\\d+)");
        assertTrue((fall + 1) * inter < lameDuck * 1000, "HAProxy: (" + fall + " + 1) x " + inter + " ms against --lame-duck "
                + lameDuck);
        assertTrue(cfg.contains("option httpchk GET /readyz") && cfg.contains("http-check expect status 200"), "checks /readyz");

        String k8s = Files.readString(SCRIPTS.resolve("k8s/deployment.yaml"));
        String readiness = k8s.substring(k8s.indexOf("readinessProbe:"));
        long period = seconds(readiness, "periodSeconds: (\\d+)");
        long threshold = seconds(readiness, "failureThreshold: (\\d+)");
        long podLameDuck = seconds(k8s.replace("\"", "").replace(",", ""), "--lame-duck (\\d+)");
        assertTrue((threshold + 1) * period < podLameDuck, "Kubernetes: (" + threshold + " + 1) x " + period
                + " s against --lame-duck " + podLameDuck);
    }

    /** --lame-duck + --graceful-timeout as the recipe's command line sets them (prefork's defaults: 0 and 30). */
    private static long drain(String text) {
        long lameDuck = seconds(text, "--lame-duck (\\d+)", 0);
        long graceful = seconds(text, "--graceful-timeout (\\d+)", 30);
        return lameDuck + graceful;
    }

    private static long seconds(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            fail("no /" + regex + "/ in the recipe");
        }
        return Long.parseLong(m.group(1));
    }

    private static long seconds(String text, String regex, long dflt) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : dflt;
    }

    private static int systemdVersion(String analyze) throws Exception {
        Process p = new ProcessBuilder(analyze, "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("systemd (\\d+)").matcher(out);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }
}
