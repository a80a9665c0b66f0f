package io.prefork.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One control-channel line: a {@link MessageType} and its arguments. Arguments are separated by one
 * space; '%', space, CR and LF inside an argument are percent-encoded, so any string round-trips.
 */
public record ControlMessage(MessageType type, List<String> args) {
    /** The longest line either side accepts, newline included. */
    public static final int MAX_LINE = 4096;

    public ControlMessage {
        args = List.copyOf(args);
    }

    public static ControlMessage of(MessageType type, String... args) {
        return new ControlMessage(type, List.of(args));
    }

    public String arg(int index) throws ProtocolException {
        if (index >= args.size()) {
            throw new ProtocolException(type + " needs at least " + (index + 1) + " argument(s)");
        }
        return args.get(index);
    }

    public byte[] encode() {
        StringBuilder line = new StringBuilder(type.name());
        for (String arg : args) {
            line.append(' ').append(escape(arg));
        }
        byte[] bytes = line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_LINE) {
            throw new IllegalArgumentException("control message longer than " + MAX_LINE + " bytes: " + type);
        }
        return bytes;
    }

    /** Parses one line without its newline. */
    public static ControlMessage parse(String line) throws ProtocolException {
        String[] parts = line.split(" ", -1);
        MessageType type;
        try {
            type = MessageType.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("unknown message type: " + abbreviate(parts[0]));
        }
        List<String> args = new ArrayList<>(parts.length - 1);
        for (int i = 1; i < parts.length; i++) {
            args.add(unescape(parts[i]));
        }
        return new ControlMessage(type, args);
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '%' -> out.append("%25");
                case ' ' -> out.append("%20");
                case '\n' -> out.append("%0A");
                case '\r' -> out.append("%0D");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static String unescape(String s) throws ProtocolException {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
        for (int i = 0; i < in.length; i++) {
            if (in[i] != '%') {
                out.write(in[i]);
                continue;
            }
            if (i + 2 >= in.length) {
                throw new ProtocolException("bad percent-escape in: " + abbreviate(s));
            }
            int hi = Character.digit(in[i + 1], 16);
            int lo = Character.digit(in[i + 2], 16);
            if (hi < 0 || lo < 0) {
                throw new ProtocolException("bad percent-escape in: " + abbreviate(s));
            }
            out.write(hi * 16 + lo);
            i += 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    @Override
    public String toString() {
        return new String(encode(), StandardCharsets.UTF_8).strip();
    }
}
