package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** libjffi unpacked once into the cache, for every worker to load, instead of a temporary copy per JVM. */
class JffiLibraryTest {
    @TempDir
    Path cache;

    @Test
    void theLibraryIsUnpackedOnceAndTheWorkersArePointedAtIt() throws Exception {
        List<String> options = JffiLibrary.workerOptions(cache);
        assertEquals(1, options.size(), options.toString());
        assertTrue(options.get(0).startsWith("-Djffi.boot.library.path=" + cache.resolve("jffi-")), options.toString());
        Path dir = Path.of(options.get(0).substring("-Djffi.boot.library.path=".length()));
        Path library = dir.resolve(System.mapLibraryName("jffi-1.2"));
        assertTrue(Files.size(library) > 50_000, "the whole library: " + Files.size(library));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(library), files.toList(), "no partial file left");
        }

        FileTime written = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(library, written);
        assertEquals(options, JffiLibrary.workerOptions(cache), "the next generation finds the same copy");
        assertEquals(written, Files.getLastModifiedTime(library), "and does not write it again");
    }

    @Test
    void aCopyOfTheRightSizeButOtherContentIsReplacedNotLoaded() throws Exception {
        Path dir = Path.of(JffiLibrary.workerOptions(cache).get(0).substring("-Djffi.boot.library.path=".length()));
        Path library = dir.resolve(System.mapLibraryName("jffi-1.2"));
        byte[] good = Files.readAllBytes(library);
        byte[] forged = good.clone();
        forged[forged.length / 2] ^= 1;
        Files.write(library, forged);
        assertEquals(1, JffiLibrary.workerOptions(cache).size());
        assertArrayEquals(good, Files.readAllBytes(library), "the forged copy was written over");
    }

    @Test
    void aDirectoryOthersMayWriteIsNotUsed() throws Exception {
        Path dir = Path.of(JffiLibrary.workerOptions(cache).get(0).substring("-Djffi.boot.library.path=".length()));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(List.of(), JffiLibrary.workerOptions(cache), "a library others could swap is not pointed at");
    }

    @Test
    void withoutRoomInTheCacheEachJvmUnpacksItsOwnAsBefore() throws Exception {
        Path notADirectory = Files.createFile(cache.resolve("file"));
        assertEquals(List.of(), JffiLibrary.workerOptions(notADirectory));
    }
}
