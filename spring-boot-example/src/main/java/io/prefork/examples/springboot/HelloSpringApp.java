package io.prefork.examples.springboot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * An ordinary Spring Boot web app: {@code GET /} answers {@code Hello from Spring Boot},
 * {@code GET /sleep?ms=N} after N ms. Nothing in it knows prefork; its pom adds the starter.
 */
@SpringBootApplication
@RestController
public class HelloSpringApp {
    private static final String PID = Long.toString(ProcessHandle.current().pid());

    public static void main(String[] args) {
        SpringApplication.run(HelloSpringApp.class, args);
    }

    @GetMapping("/")
    ResponseEntity<String> hello() {
        return ResponseEntity.ok().header("X-Worker-Pid", PID).body("Hello from Spring Boot\n");
    }

    @GetMapping("/sleep")
    ResponseEntity<String> sleep(@RequestParam(name = "ms", defaultValue = "0") long ms) throws InterruptedException {
        Thread.sleep(ms);
        return ResponseEntity.ok().header("X-Worker-Pid", PID).body("slept " + ms + " ms\n");
    }
}
