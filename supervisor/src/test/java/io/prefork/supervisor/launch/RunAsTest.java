package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --user: the setpriv prefix, finding setpriv, and whether the user can reach a directory. */
class RunAsTest {
    @TempDir
    Path dir;

    @Test
    void theWorkersStartThroughSetprivWithTheUsersIds() {
        RunAs nobody = new RunAs("nobody", null, 65534, 65534, new int[] {65534, 100}, "/usr/bin/setpriv");
        assertEquals(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--groups=65534,100", "--"), nobody.prefix());
        RunAs noGroups = new RunAs(null, "staff", 0, 50, new int[0], "/bin/setpriv");
        assertEquals(List.of("/bin/setpriv", "--reuid=0", "--regid=50", "--clear-groups", "--"), noGroups.prefix());
        assertTrue(nobody.sameIds(new RunAs("other-name", null, 65534, 65534, new int[] {65534, 100}, "/x")));
        assertFalse(nobody.sameIds(new RunAs("nobody", null, 65534, 65534, new int[] {65534}, "/usr/bin/setpriv")));
        assertFalse(nobody.sameIds(null));
    }

    @Test
    void setprivIsTheFirstExecutableOnThePath() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.createFile(a.resolve("setpriv"));  // not executable: skipped
        Path real = Files.createFile(b.resolve("setpriv"));
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(real.toString(), RunAs.onPath("setpriv", a + ":" + b));
        assertNull(RunAs.onPath("setpriv", a.toString()));
        assertNull(RunAs.onPath("setpriv", null));
        Path relative = Path.of("").toAbsolutePath().relativize(b);  // names b from here: found, were it not skipped
        assertTrue(Files.isExecutable(relative.resolve("setpriv")));
        assertNull(RunAs.onPath("setpriv", "::" + relative), "relative and empty entries are skipped");
    }

    @Test
    void theWorkersUserMustRunJavaAndReadTheClasspath() throws Exception {
        int uid = (Integer) Files.getAttribute(dir, "unix:uid");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path java = Files.createFile(dir.resolve("java"));
        Path jar = Files.createFile(dir.resolve("app.jar"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(classes, PosixFilePermissions.fromString("rwxr-xr-x"));
        RunAs other = new RunAs(null, null, uid + 12345, uid + 12345, new int[0], "setpriv");
        String classpath = jar + ":" + classes + ":" + dir.resolve("missing.jar") + ":" + dir + "/lib/*";
        assertNull(other.unusable(java.toString(), classpath), "readable, runnable; a missing entry and a wildcard are the JVM's");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals("read " + jar, other.unusable(java.toString(), classpath));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(classes, PosixFilePermissions.fromString("rwxr--r--"));
        assertEquals("read " + classes, other.unusable(java.toString(), classpath), "a directory needs r and x");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr--r--"));
        assertEquals("run " + java, other.unusable(java.toString(), classpath));
    }

    @Test
    void aDirectoryIsReachableOnlyThroughDirectoriesTheUserMaySearch() throws Exception {
        int uid = (Integer) Files.getAttribute(dir, "unix:uid");
        int gid = (Integer) Files.getAttribute(dir, "unix:gid");
        int stranger = uid + 12345;
        Path top = Files.createDirectories(dir.resolve("top"));
        Path cache = Files.createDirectories(top.resolve("cache"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwx--x---"));
        RunAs owner = new RunAs(null, null, uid, stranger, new int[0], "setpriv");
        RunAs groupMember = new RunAs(null, null, stranger, stranger, new int[] {gid}, "setpriv");
        RunAs other = new RunAs(null, null, stranger, stranger, new int[0], "setpriv");
        // /tmp and the directories above it let everyone search (as on any system the tests run on)
        assertTrue(owner.canReach(cache));
        assertTrue(groupMember.canReach(cache), "group x");
        assertFalse(other.canReach(cache), "no x for others on " + top);
        assertFalse(other.canReach(cache.resolve("not/made/yet")), "the nearest existing directory decides");
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwx-----x"));
        assertTrue(other.canReach(cache.resolve("not/made/yet")));
        assertFalse(groupMember.canReach(cache), "a group member gets the group's bits, not the others'");
    }
}
