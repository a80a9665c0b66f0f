package io.prefork.supervisor;

import java.util.List;
import java.util.Random;

/**
 * A small mutation-based input generator for the parser fuzz tests (Jazzer needs a download and an
 * agent these runs do not have; a seeded generator runs anywhere, and a failure names its seed and
 * input). Inputs start from real ones (seeds) and are mutated: characters inserted, deleted, replaced
 * (from an alphabet of the separators, escapes, digits, control and non-ASCII characters these
 * parsers meet), pieces duplicated or swapped, cut short, or made very long.
 */
public final class Fuzz {
    /** Inputs per target in `mvn verify`; more with -Dprefork.fuzz.inputs=N, another run with -Dprefork.fuzz.seed=S. */
    public static final int INPUTS = Integer.getInteger("prefork.fuzz.inputs", 20_000);
    public static final long SEED = Long.getLong("prefork.fuzz.seed", 1);
    private static final String ALPHABET = " %:=,-./@0123456789aAzZ_\t\r\n\0\u00e9\u2603\ud83d\ude00%0A%20%25%zz";

    private final Random random;

    public Fuzz(long seed) {
        this.random = new Random(seed);
    }

    public Random random() {
        return random;
    }

    public <T> T pick(List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    /** One input: a mutation of one of {@code seeds}, or of two joined. */
    public String input(List<String> seeds) {
        StringBuilder s = new StringBuilder(pick(seeds));
        if (random.nextInt(8) == 0) {
            s.append(random.nextBoolean() ? " " : "").append(pick(seeds));
        }
        int edits = random.nextInt(4);
        for (int i = 0; i < edits; i++) {
            int at = s.length() == 0 ? 0 : random.nextInt(s.length() + 1);
            switch (random.nextInt(7)) {
                case 0 -> s.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 1 -> {
                    if (at < s.length()) {
                        s.deleteCharAt(at);
                    }
                }
                case 2 -> {
                    if (at < s.length()) {
                        s.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                    }
                }
                case 3 -> s.setLength(at);
                case 4 -> s.insert(at, s.substring(0, Math.min(s.length(), random.nextInt(8))));
                case 5 -> s.insert(at, Long.toString(random.nextBoolean() ? random.nextLong() : random.nextInt(100)));
                default -> {
                    if (random.nextInt(50) == 0) {
                        s.append("9".repeat(random.nextInt(5000)));  // the very long, the very large
                    }
                }
            }
        }
        return s.toString();
    }
}
