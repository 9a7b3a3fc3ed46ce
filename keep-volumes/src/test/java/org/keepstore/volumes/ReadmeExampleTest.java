package org.keepstore.volumes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.keepstore.core.BlockNotFoundException;
import org.keepstore.core.BlockSink;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.volumes.directory.DirectoryVolume;

/** The "Embedding" example of README.md, line for line, so the README is known to compile and work. */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeEmbeddingExampleWorks() throws Exception {
        assertEquals("hello, keep", roundTrip(dir));
    }

    /** As the README says below the example: with the defaults, trash is kept and can be restored. */
    @Test
    void theDefaultsTrashIntoARestorableTrash() throws Exception {
        Volume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        Mount mount = Mount.of(Mount.uuidFor(dir.toString()), volume);
        try (KeepStore store = new KeepStore(List.of(mount), new BufferPool(2), KeepStore.Options.defaults())) {
            byte[] data = "old block".getBytes(StandardCharsets.UTF_8);
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
            store.write(hash, ByteBuffer.wrap(data), Set.of(), null);
            // Older than the signature TTL, so trashing it is allowed.
            Files.setLastModifiedTime(dir.resolve(hash.substring(0, 3)).resolve(hash),
                    FileTime.from(Instant.now().minus(Duration.ofDays(30))));
            store.trash(hash);
            assertThrows(BlockNotFoundException.class, () -> store.verify(hash));
            store.emptyTrash();
            store.untrash(hash);
            assertEquals(data.length, store.verify(hash));
        }
    }

    /** The README shows the tested method exactly (indentation aside), so the two cannot drift apart. */
    @Test
    void readmeShowsExactlyTheTestedLines() throws Exception {
        // Surefire runs in the module directory; the README is at the repository root.
        String source = Files.readString(Path.of("src/test/java/org/keepstore/volumes/ReadmeExampleTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        String tested = source.split("// --- README example start ---\n")[1].split("    // --- README example end ---")[0];
        String unindented = tested.lines().map(l -> l.startsWith("    ") ? l.substring(4) : l)
                .collect(Collectors.joining("\n", "", "\n"));
        assertTrue(readme.contains(unindented), "README.md's Embedding example differs from ReadmeExampleTest");
    }

    // Everything between the markers is copied verbatim into README.md ("Embedding").
    // --- README example start ---
    static String roundTrip(Path dir) throws Exception {
        Volume volume = new DirectoryVolume(dir, VolumeContext.defaults());
        Mount mount = Mount.of(Mount.uuidFor(dir.toString()), volume);
        try (KeepStore store = new KeepStore(List.of(mount), new BufferPool(2), KeepStore.Options.defaults())) {
            byte[] data = "hello, keep".getBytes(StandardCharsets.UTF_8);
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
            Locator locator = store.write(hash, ByteBuffer.wrap(data), Set.of(), null).locator();
            System.out.println("stored " + locator);          // 05b723e40610603d6d51c4de7671c349+11

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            store.read(locator.hash(), new BlockSink() {
                @Override
                public void begin(long size) {
                }

                @Override
                public void write(ByteBuffer chunk) throws IOException {
                    Channels.newChannel(out).write(chunk);
                }
            });
            return out.toString(StandardCharsets.UTF_8);   // "hello, keep", verified against its MD5
        }
    }
    // --- README example end ---
}
