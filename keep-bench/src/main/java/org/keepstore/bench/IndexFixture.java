package org.keepstore.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Fills a directory volume with many small blocks in the reference layout ({@code DIR/HHH/HASH}),
 * written straight to disk before the server starts: far faster than PUTting them, and exactly
 * what a server finds when it is pointed at an existing volume.
 */
final class IndexFixture {
    /** {@code HASH+SIZE MTIME_NS\n}: mtimes in nanoseconds have 19 digits until 2286. */
    private static final int MTIME_DIGITS = 19;

    private IndexFixture() {
    }

    /**
     * Writes {@code count} distinct blocks.
     *
     * @return the number of bytes a complete {@code GET /index} of them has, final empty line
     *         included
     */
    static long create(Path volume, int count) throws IOException {
        MessageDigest md5 = Md5Baseline.newMd5();
        HexFormat hex = HexFormat.of();
        long indexBytes = 1;
        for (int i = 0; i < count; i++) {
            byte[] content = ("index fixture block " + i).getBytes(StandardCharsets.US_ASCII);
            String hash = hex.formatHex(md5.digest(content));
            Path dir = volume.resolve(hash.substring(0, 3));
            Files.createDirectories(dir);
            Files.write(dir.resolve(hash), content);
            indexBytes += 32 + 1 + Integer.toString(content.length).length() + 1 + MTIME_DIGITS + 1;
        }
        return indexBytes;
    }
}
