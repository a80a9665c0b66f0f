package io.prefork.worker;

import io.prefork.unix.Fds;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;

/** A listener fd received from the supervisor over SCM_RIGHTS. */
final class ReceivedListener implements InheritedListener {
    static final String ADD_OPENS = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";

    private final int index;
    private final String address;
    private final int fd;
    private ServerSocketChannel channel;

    ReceivedListener(int index, String address, int fd) {
        this.index = index;
        this.address = address;
        this.fd = fd;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public boolean isUnix() {
        return address.startsWith("unix:");
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public synchronized ServerSocketChannel channel() throws IOException {
        if (channel == null) {
            channel = index == 0 ? inherited() : wrap(Fds.dup(fd));
        }
        return channel;
    }

    /** The launcher dup2'ed listener 0 onto fd 0, where the JDK looks for an inherited channel. */
    private ServerSocketChannel inherited() throws IOException {
        Channel inherited = System.inheritedChannel();
        if (inherited instanceof ServerSocketChannel ssc) {
            return ssc;
        }
        throw new IOException("System.inheritedChannel() is " + inherited + ", not the listener on fd 0");
    }

    /**
     * The JDK has no public way to wrap an fd in a ServerSocketChannel and gives only fd 0 as the
     * inherited channel, so further listeners use the JDK's own constructor (same one on 17 and 25).
     */
    private ServerSocketChannel wrap(int ownFd) throws IOException {
        try {
            Method newFd = Class.forName("sun.nio.ch.IOUtil").getDeclaredMethod("newFD", int.class);
            newFd.setAccessible(true);
            Constructor<?> ctor = Class.forName("sun.nio.ch.ServerSocketChannelImpl").getDeclaredConstructor(
                    SelectorProvider.class, ProtocolFamily.class, FileDescriptor.class, boolean.class);
            ctor.setAccessible(true);
            return (ServerSocketChannel) ctor.newInstance(
                    SelectorProvider.provider(), family(), newFd.invoke(null, ownFd), true);
        } catch (RuntimeException | ReflectiveOperationException e) {
            Fds.close(ownFd);
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new IOException("cannot open listener " + index + " (" + address + ") as a ServerSocketChannel;"
                    + " the worker JVM needs " + ADD_OPENS + " (the supervisor adds it): " + cause, cause);
        }
    }

    private ProtocolFamily family() {
        if (isUnix()) {
            return StandardProtocolFamily.UNIX;
        }
        return address.startsWith("[") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    @Override
    public String toString() {
        return "listener " + index + " " + address + " (fd " + fd + ")";
    }
}
