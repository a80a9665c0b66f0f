package io.prefork.supervisor.net;

import io.prefork.supervisor.UsageException;
import io.prefork.unix.UnixSockets;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A {@code -b} value: {@code HOST:PORT}, {@code [IPV6]:PORT}, {@code unix:PATH} or {@code unix:@NAME}. */
public record BindAddress(InetSocketAddress inet, String unixPath) {
    private static final String FORMS = "expected HOST:PORT, [IPV6]:PORT or unix:PATH";

    public boolean isUnix() {
        return unixPath != null;
    }

    public boolean isAbstract() {
        return isUnix() && unixPath.startsWith("@");
    }

    public static BindAddress parse(String text) throws UsageException {
        if (text.startsWith("unix:")) {
            return unix(text, text.substring("unix:".length()));
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new UsageException("bad address '" + text + "': " + FORMS);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0) {
                throw new UsageException("bad address '" + text + "': " + FORMS);
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new UsageException("bad address '" + text + "': put an IPv6 address in brackets, like [::1]:8080");
            }
        }
        InetAddress ip = resolve(text, host, text.startsWith("["));
        return new BindAddress(new InetSocketAddress(ip, parsePort(text, port)), null);
    }

    private static BindAddress unix(String text, String path) throws UsageException {
        if (path.isEmpty() || path.equals("@")) {
            throw new UsageException("bad address '" + text + "': the unix socket path is empty");
        }
        String full = path.startsWith("@") ? path : Path.of(path).toAbsolutePath().normalize().toString();
        if (full.getBytes(StandardCharsets.UTF_8).length > 107) {
            throw new UsageException("bad address '" + text + "': a unix socket path can have at most 107 bytes");
        }
        checkUnixPath("bad address '" + text + "'", full);
        return new BindAddress(null, full);
    }

    /** A usage error (naming {@code what}) if prefork cannot bind a Unix socket at {@code path}. */
    public static void checkUnixPath(String what, String path) throws UsageException {
        String invalid = UnixSockets.invalidPath(path);
        if (invalid != null) {
            throw new UsageException(what + ": " + invalid);
        }
    }

    private static InetAddress resolve(String text, String host, boolean bracketed) throws UsageException {
        try {
            InetAddress ip = InetAddress.getByName(host);
            if (bracketed && !(ip instanceof Inet6Address)) {
                throw new UsageException("bad address '" + text + "': only IPv6 addresses go in brackets");
            }
            return ip;
        } catch (UnknownHostException e) {
            throw new UsageException("bad address '" + text + "': cannot resolve host '" + host + "'");
        }
    }

    private static int parsePort(String text, String port) throws UsageException {
        try {
            int p = Integer.parseInt(port);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message below
        }
        throw new UsageException("bad address '" + text + "': the port must be a number from 0 to 65535");
    }

    /** {@code 127.0.0.1:8080}, {@code [::1]:8080}: the form logs and workers see. */
    public static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return ip instanceof Inet6Address
                ? "[" + compressIpv6(ip.getAddress()) + "]:" + address.getPort()
                : ip.getHostAddress() + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return isUnix() ? "unix:" + unixPath : format(inet);
    }

    /** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as "::". */
    static String compressIpv6(byte[] ip) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((ip[2 * i] & 0xff) << 8) | (ip[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }
}
