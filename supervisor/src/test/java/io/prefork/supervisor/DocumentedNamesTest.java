package io.prefork.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The signals and admin commands are written once, in enums; the README must say the same. */
class DocumentedNamesTest {
    private static final Path README = Path.of(System.getProperty("user.dir")).resolve("../README.md").normalize();

    @Test
    void theReadmesSignalsTableListsTheHandledSignalsInOrder() throws Exception {
        String text = Files.readString(README);
        String table = text.substring(text.indexOf("## Signals"), text.indexOf("prefork does not use `-Xrs`"));
        Matcher row = Pattern.compile("(?m)^\\| `([A-Z0-9]+)` \\| (.)").matcher(table);
        List<String> handled = new java.util.ArrayList<>();
        while (row.find()) {
            if (!table.substring(row.start()).startsWith("| `QUIT` | not handled")) {
                handled.add(row.group(1));
            }
        }
        assertEquals(Arrays.stream(HandledSignal.values()).map(Enum::name).toList(), handled);
    }

    @Test
    void theReadmeShowsEveryAdminCommandAndTheUsageNamesThemAll() throws Exception {
        String text = Files.readString(README);
        String section = text.substring(text.indexOf("## Controlling a running supervisor"), text.indexOf("## Upgrading the supervisor"));
        for (AdminCommand c : AdminCommand.values()) {
            assertTrue(section.contains("scripts/prefork ctl " + c.word()), "the README shows ctl " + c.word());
            assertTrue(AdminCommand.usage(" | ").contains(c.word()));
            assertEquals(c, AdminCommand.parse(c.word()).orElseThrow());
        }
        assertEquals("status, metrics", AdminCommand.words(true), "the admin group's read-only commands");
    }

    /** Each row of the README's option table names its flags and the default that {@link Flag} holds. */
    @Test
    void theReadmesOptionTableHasEveryFlagWithTheCodesDefault() throws Exception {
        String text = Files.readString(README);
        String table = text.substring(text.indexOf("## Command line"), text.indexOf("## Signals"));
        Matcher row = Pattern.compile("(?m)^\\| (`-[^|]*) \\|\\s*([^|]*?)\\s*\\|").matcher(table);
        java.util.Set<Flag> documented = java.util.EnumSet.noneOf(Flag.class);
        while (row.find()) {
            String shown = row.group(2).replace("`", "").replaceAll(" \\([^)]*\\)$", "").strip();
            Matcher name = Pattern.compile("--([a-z-]+)").matcher(row.group(1));
            while (name.find()) {
                Flag flag = Flag.valueOf(name.group(1).toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
                documented.add(flag);
                String expected = flag.shownDefault() == null ? "" : flag.shownDefault();
                assertEquals(expected, shown, "the README's default for --" + flag.longName());
            }
        }
        assertEquals(java.util.EnumSet.allOf(Flag.class), documented, "every option is in the README's table");
    }
}
