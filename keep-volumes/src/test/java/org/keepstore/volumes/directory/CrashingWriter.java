package org.keepstore.volumes.directory;

import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import org.keepstore.core.VolumeContext;

/**
 * The child process of {@link DirectoryVolumeCrashTest}: writes random blocks to a directory
 * volume from several threads, forever, and appends each block's hash as a line to a file once
 * {@code write} has returned (that is, once the block is acknowledged), each line in one write
 * call, so a kill can cut at most the line being written. It is killed with SIGKILL.
 */
public final class CrashingWriter {
    static final int THREADS = 4;

    private CrashingWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        DirectoryVolume volume = new DirectoryVolume(root, VolumeContext.defaults());
        FileOutputStream out = new FileOutputStream(args[2], true);
        for (int t = 0; t < THREADS; t++) {
            Random random = new Random(seed * 31 + t);
            Thread writer = new Thread(() -> {
                try {
                    MessageDigest md5 = MessageDigest.getInstance("MD5");
                    while (true) {
                        // Mostly small blocks, now and then a large one, so kills land in all phases.
                        int size = random.nextInt(10) == 0 ? random.nextInt(8 << 20) : random.nextInt(256 << 10);
                        byte[] data = new byte[size];
                        random.nextBytes(data);
                        String hash = HexFormat.of().formatHex(md5.digest(data));
                        volume.write(hash, ByteBuffer.wrap(data));
                        synchronized (out) {
                            out.write((hash + "\n").getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    System.exit(3);
                }
            }, "writer-" + t);
            writer.start();
        }
    }
}
