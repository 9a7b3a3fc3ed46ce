package org.keepstore.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Settings of the suite and its record of figures. {@code -Dkeepstore.reliability.full=true}
 * (scripts/reliability.sh) selects the full run; without it the tests run the shortened version CI
 * can afford. Each figure is printed and appended to the file named by {@code keepstore.figures}.
 */
final class Suite {
    private Suite() {
    }

    static boolean full() {
        return Boolean.getBoolean("keepstore.reliability.full");
    }

    /** An integer setting: the system property if set and non-empty, else the default of this run. */
    static int setting(String property, int shortened, int fullRun) {
        String value = System.getProperty(property, "").trim();
        return value.isEmpty() ? (full() ? fullRun : shortened) : Integer.parseInt(value);
    }

    static synchronized void figure(String name, Object value) {
        String line = name + ": " + value;
        System.out.println("FIGURE " + line);
        String file = System.getProperty("keepstore.figures");
        if (file != null && !file.isEmpty()) {
            try {
                Files.writeString(Path.of(file), line + System.lineSeparator(), StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                System.out.println("could not record the figure: " + e);
            }
        }
    }

    /** A key or token file, readable by its owner only (as an operator should keep it). */
    static Path secretFile(Path dir, String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }
}
