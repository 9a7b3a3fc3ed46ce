package org.keepstore.server.flags;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.keepstore.server.StartupException;

/**
 * Finds volumes the way the reference keepstore does when no volume flag is given: every
 * directory named {@code keep} at the top of a mount point other than {@code /} whose device is
 * {@code tmpfs} or under {@code /dev/}, read-only when the file system is mounted {@code ro}.
 * The mounts table is normally {@code /proc/mounts}; tests point it elsewhere with the
 * {@code keepstore.mountsFile} system property (see {@code Main}).
 */
final class MountsFileDiscovery {

    record KeepDirectory(Path path, boolean readOnly) {
    }

    private MountsFileDiscovery() {
    }

    static List<KeepDirectory> discover(Path mountsFile) throws StartupException {
        List<String> lines;
        try {
            lines = Files.readAllLines(mountsFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StartupException("no -volume given and cannot read " + mountsFile + " to look for keep directories");
        }
        List<KeepDirectory> found = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length < 4) {
                continue;
            }
            String device = fields[0];
            String mountPoint = unescape(fields[1]);
            if (mountPoint.equals("/")) {
                continue;
            }
            if (!device.equals("tmpfs") && !device.startsWith("/dev/")) {
                continue;
            }
            Path keep = Path.of(mountPoint, "keep");
            if (!Files.isDirectory(keep)) {
                continue;
            }
            boolean readOnly = Arrays.asList(fields[3].split(",")).contains("ro");
            found.add(new KeepDirectory(keep, readOnly));
        }
        return found;
    }

    /** The kernel writes spaces, tabs, newlines and backslashes in mount points as octal escapes. */
    private static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
