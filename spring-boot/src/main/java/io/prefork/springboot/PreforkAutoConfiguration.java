package io.prefork.springboot;

import io.prefork.tomcat.PreforkTomcat;
import io.prefork.worker.Prefork;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Makes a Spring Boot app a prefork worker, only when it runs under prefork:
 * <ul>
 *   <li>embedded Tomcat accepts on the listener prefork hands over and binds nothing of its own; a
 *       hot spare boots the whole context and parks where Tomcat asks for it;</li>
 *   <li>Spring's readiness (ACCEPTING_TRAFFIC) is the worker's READY;</li>
 *   <li>a stop drains with zero loss: the listener is taken from Tomcat, every further answer says
 *       {@code Connection: close}, prefork waits until the accepted connections are closed (the
 *       kernel's count), then the context closes.</li>
 * </ul>
 */
@AutoConfiguration
@Conditional(PreforkAutoConfiguration.Supervised.class)
public class PreforkAutoConfiguration {
    /** A stop leaves this much of its time, at most, to close the context after the drain. */
    static final Duration CLOSE_RESERVE = Duration.ofSeconds(5);

    @Bean
    PreforkWorker preforkWorker(ConfigurableApplicationContext context) {
        return new PreforkWorker(context);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.apache.catalina.startup.Tomcat")
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    static class OnTomcat {
        @Bean
        WebServerFactoryCustomizer<TomcatServletWebServerFactory> preforkTomcat() {
            return factory -> {
                factory.addConnectorCustomizers(PreforkTomcat::useInheritedListener);
                factory.addEngineValves(PreforkTomcat.connectionCloseWhileDraining());
            };
        }
    }

    /** Readiness and the drain; registers the stop handler as soon as the context creates it. */
    static final class PreforkWorker {
        PreforkWorker(ConfigurableApplicationContext context) {
            Prefork.onStop(timeLeft -> {
                Duration reserve = timeLeft.dividedBy(4).compareTo(CLOSE_RESERVE) < 0 ? timeLeft.dividedBy(4) : CLOSE_RESERVE;
                // prefork took the listeners from Tomcat's acceptor before this runs
                Prefork.awaitConnectionsClosed(timeLeft.minus(reserve));
                context.close();
            });
        }

        @EventListener
        public void onReadiness(AvailabilityChangeEvent<ReadinessState> event) {
            if (event.getState() == ReadinessState.ACCEPTING_TRAFFIC) {
                Prefork.ready();
            }
        }
    }

    /** True when this JVM is a prefork worker. */
    static final class Supervised extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return Prefork.isSupervised() ? ConditionOutcome.match("started by the prefork supervisor")
                    : ConditionOutcome.noMatch("not started by the prefork supervisor");
        }
    }
}
