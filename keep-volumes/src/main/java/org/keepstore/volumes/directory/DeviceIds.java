package org.keepstore.volumes.directory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Works out a device id for a directory volume that is the same for every host and every
 * start that sees the same storage: {@code FSUUID/PATH-IN-FILESYSTEM} when the filesystem has an
 * entry in {@code /dev/disk/by-uuid}, otherwise {@code HOSTNAME:ROOT}.
 */
final class DeviceIds {
    private static final Path BY_UUID = Path.of("/dev/disk/by-uuid");
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private DeviceIds() {
    }

    static String forDirectory(Path root) {
        try {
            Path real = root.toRealPath();
            String uuid = filesystemUuid(real);
            if (uuid != null) {
                return uuid + pathInsideFilesystem(real);
            }
            return hostname() + ":" + real;
        } catch (IOException | RuntimeException e) {
            return hostname() + ":" + root;
        }
    }

    /** The by-uuid name of the block device that holds {@code dir}, or null. */
    private static String filesystemUuid(Path dir) throws IOException {
        if (!Files.isDirectory(BY_UUID)) {
            return null;
        }
        Object dev = Files.getAttribute(dir, "unix:dev");
        try (DirectoryStream<Path> links = Files.newDirectoryStream(BY_UUID)) {
            for (Path link : links) {
                try {
                    Object rdev = Files.getAttribute(link.toRealPath(), "unix:rdev");
                    if (dev.equals(rdev)) {
                        return link.getFileName().toString();
                    }
                } catch (IOException e) {
                    // a dangling link; look at the others
                }
            }
        }
        return null;
    }

    /**
     * The path of {@code dir} relative to the root of its filesystem (not of its mount point,
     * which differs between hosts and bind mounts), from {@code /proc/self/mountinfo}.
     */
    private static String pathInsideFilesystem(Path dir) throws IOException {
        String best = null;
        String bestFsRoot = "/";
        if (Files.isReadable(MOUNTINFO)) {
            List<String> lines = Files.readAllLines(MOUNTINFO);
            for (String line : lines) {
                String[] f = line.split(" ");
                if (f.length < 5) {
                    continue;
                }
                String fsRoot = unescape(f[3]);
                String mountPoint = unescape(f[4]);
                if (isUnder(dir.toString(), mountPoint) && (best == null || mountPoint.length() >= best.length())) {
                    best = mountPoint;
                    bestFsRoot = fsRoot;
                }
            }
        }
        if (best == null) {
            return dir.toString();
        }
        String rest = dir.toString().substring(best.equals("/") ? 0 : best.length());
        String joined = (bestFsRoot.equals("/") ? "" : bestFsRoot) + (rest.isEmpty() ? "/" : rest);
        return joined.startsWith("/") ? joined : "/" + joined;
    }

    private static boolean isUnder(String path, String mountPoint) {
        return mountPoint.equals("/") || path.equals(mountPoint) || path.startsWith(mountPoint + "/");
    }

    /** mountinfo writes space, tab, newline and backslash as three-digit octal escapes. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape after all
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isEmpty() ? "localhost" : env;
        }
    }
}
