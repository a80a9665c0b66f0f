package io.prefork.worker;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;

/**
 * The JDK's own selector provider, with one change: in a hot spare (or the class archive's training
 * run), {@link System#inheritedChannel()} waits for the listeners. An app that takes its listener
 * from the JVM (Jetty's {@code setInheritChannel}, Tomcat's {@code useInheritedChannel}, plain NIO)
 * then parks right where it asks for it: it never sees an empty fd 0 and never binds a socket of its
 * own, it has booted all it can, and that moment is the training point of the class archive.
 *
 * <p>Everything else goes to the JDK's default provider, so channels and selectors are the JDK's own.
 * The worker launcher installs it with the {@code java.nio.channels.spi.SelectorProvider} property.
 */
public final class ParkingSelectorProvider extends SelectorProvider {
    private static final String PROPERTY = "java.nio.channels.spi.SelectorProvider";

    private final SelectorProvider jdk = jdkDefault();

    /**
     * Installs this provider, unless the app sets its own {@code -Djava.nio.channels.spi.SelectorProvider},
     * or the JDK's default one cannot be reached (the worker JVM then lacks {@link ReceivedListener#ADD_OPENS}).
     */
    static void install() {
        String reason = null;
        try {
            jdkDefault();
            if (System.getProperty(PROPERTY) == null) {
                System.setProperty(PROPERTY, ParkingSelectorProvider.class.getName());
            }
            if (!(SelectorProvider.provider() instanceof ParkingSelectorProvider)) {
                reason = "the selector provider is " + SelectorProvider.provider().getClass().getName() + ", not prefork's";
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            reason = "cannot reach the JDK's default selector provider (" + e + "); the worker JVM needs " + ReceivedListener.ADD_OPENS;
        }
        if (reason != null) {
            WorkerLog.info(reason + ": a spare's System.inheritedChannel() does not wait for its listeners");
        }
    }

    private static SelectorProvider jdkDefault() throws ReflectiveOperationException {
        return (SelectorProvider) Class.forName("sun.nio.ch.DefaultSelectorProvider").getMethod("get").invoke(null);
    }

    /** For the JDK's ServiceLoader-style construction: only after {@link #install()} checked the JDK's provider. */
    public ParkingSelectorProvider() throws ReflectiveOperationException {
    }

    /** In a spare: tells the supervisor it is parked, and waits for the listeners; then the JDK's answer. */
    @Override
    public Channel inheritedChannel() throws IOException {
        Prefork.awaitInheritedChannel();
        return jdk.inheritedChannel();
    }

    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return jdk.openDatagramChannel();
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        return jdk.openDatagramChannel(family);
    }

    @Override
    public Pipe openPipe() throws IOException {
        return jdk.openPipe();
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        return jdk.openSelector();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return jdk.openServerSocketChannel();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        return jdk.openServerSocketChannel(family);
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return jdk.openSocketChannel();
    }

    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        return jdk.openSocketChannel(family);
    }
}
