package io.prefork.unix;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds and reads the C sockaddr structures by hand (sockaddr_in, sockaddr_in6, sockaddr_un). */
final class SocketAddresses {
    static final int SUN_PATH_MAX = 108;
    private static final int SIN_SIZE = 16;
    private static final int SIN6_SIZE = 28;

    private SocketAddresses() {
    }

    static byte[] inet(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address) {
            ByteBuffer b = ByteBuffer.allocate(SIN_SIZE);
            b.order(ByteOrder.nativeOrder()).putShort((short) Linux.AF_INET);
            b.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).put(ip.getAddress());
            return b.array();
        }
        Inet6Address ip6 = (Inet6Address) ip;
        ByteBuffer b = ByteBuffer.allocate(SIN6_SIZE);
        b.order(ByteOrder.nativeOrder()).putShort((short) Linux.AF_INET6);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).putInt(0).put(ip6.getAddress());
        b.order(ByteOrder.nativeOrder()).putInt(ip6.getScopeId());
        return b.array();
    }

    /** A path, or an abstract name when {@code path} starts with '@'. Returns the used length in [0]. */
    static byte[] unix(String path) {
        boolean abstractName = path.startsWith("@");
        byte[] name = (abstractName ? path.substring(1) : path).getBytes(StandardCharsets.UTF_8);
        // Abstract names start with a NUL byte; paths end with one.
        int length = 2 + 1 + name.length;
        if (length > 2 + SUN_PATH_MAX) {
            throw new IllegalArgumentException("unix socket path is too long (" + name.length
                    + " bytes, the limit is " + (SUN_PATH_MAX - 1) + "): " + path);
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
        b.putShort((short) Linux.AF_UNIX);
        if (abstractName) {
            b.put((byte) 0).put(name);
        } else {
            b.put(name).put((byte) 0);
        }
        return b.array();
    }

    static int family(byte[] sockaddr) {
        return ByteBuffer.wrap(sockaddr).order(ByteOrder.nativeOrder()).getShort(0);
    }

    /** The path of a sockaddr_un of {@code length} bytes, or '@' and the name for an abstract one. */
    static String readUnix(byte[] sockaddr, int length) {
        if (length <= 2) {
            return "";  // unnamed
        }
        if (sockaddr[2] == 0) {
            return "@" + new String(sockaddr, 3, length - 3, StandardCharsets.UTF_8);
        }
        int end = 2;
        while (end < length && sockaddr[end] != 0) {
            end++;
        }
        return new String(sockaddr, 2, end - 2, StandardCharsets.UTF_8);
    }

    static InetSocketAddress readInet(byte[] sockaddr) {
        ByteBuffer b = ByteBuffer.wrap(sockaddr).order(ByteOrder.BIG_ENDIAN);
        int port = Short.toUnsignedInt(b.getShort(2));
        try {
            byte[] ip = family(sockaddr) == Linux.AF_INET
                    ? Arrays.copyOfRange(sockaddr, 4, 8)
                    : Arrays.copyOfRange(sockaddr, 8, 24);
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e);
        }
    }
}
