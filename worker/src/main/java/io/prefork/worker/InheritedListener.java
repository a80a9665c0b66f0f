package io.prefork.worker;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;

/**
 * One listening socket the supervisor bound and handed to this worker. The app accepts on it
 * directly; it must not close it unless it is done with it (the supervisor keeps its own copy).
 */
public interface InheritedListener {
    /** Position in the supervisor's {@code -b} order, from 0. */
    int index();

    /** The address as the supervisor reports it: {@code 127.0.0.1:8080}, {@code [::1]:8080}, {@code unix:/path}. */
    String address();

    boolean isUnix();

    /** The raw fd, for servers that wrap one themselves (Netty's {@code EpollServerSocketChannel(int)}). */
    int fd();

    /**
     * The listener as a blocking {@link ServerSocketChannel}. For index 0 this is the very object
     * {@link System#inheritedChannel()} returns (Jetty's {@code setInheritChannel(true)} uses it).
     */
    ServerSocketChannel channel() throws IOException;
}
