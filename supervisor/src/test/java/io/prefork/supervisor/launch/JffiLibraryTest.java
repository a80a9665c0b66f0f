package io.prefork.supervisor.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
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
    void withoutRoomInTheCacheEachJvmUnpacksItsOwnAsBefore() throws Exception {
        Path notADirectory = Files.createFile(cache.resolve("file"));
        assertEquals(List.of(), JffiLibrary.workerOptions(notADirectory));
    }
}
