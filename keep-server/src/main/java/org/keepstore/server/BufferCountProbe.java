package org.keepstore.server;

import java.util.Arrays;
import org.keepstore.server.flags.FlagException;
import org.keepstore.server.flags.LegacyFlags;

/**
 * Prints how many block buffers the server would use with the given arguments, and nothing
 * else. The launcher runs it before the server when a {@code -config} file sets the number, to
 * size the JVM's direct memory: the limit must be fixed when the JVM starts, and only the
 * server's own reader understands every form a YAML file can give it in.
 *
 * <p>Exits 1, printing nothing, when the arguments would not start a server; the server then
 * says why itself.
 */
public final class BufferCountProbe {
    private BufferCountProbe() {
    }

    public static void main(String[] args) {
        int status = 1;
        try {
            LegacyFlags flags = new LegacyFlags();
            flags.parse(Arrays.asList(args));
            System.out.println(Main.settingsFor(flags).maxBuffers());
            status = 0;
        } catch (FlagException | StartupException | RuntimeException e) {
            // Left for the server to report.
        }
        System.exit(status);
    }
}
