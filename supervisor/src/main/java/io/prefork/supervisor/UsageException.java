package io.prefork.supervisor;

/**
 * Bad command-line input; the message is the one line the user sees. What it quotes of the input
 * keeps it one line: control characters (a newline in an argument) are shown escaped.
 */
public final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(oneLine(message));
    }

    private static String oneLine(String message) {
        StringBuilder b = new StringBuilder(message.length());
        for (char c : message.toCharArray()) {
            if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
