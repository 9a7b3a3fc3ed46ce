package org.keepstore.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load driver runs end to end against a stand-in server in its quick mode, stops the server,
 * and writes its report. Only the mechanics are tested; no figure is held to a threshold here.
 */
class LoadDriverTest {

    @Test
    void quickRunWritesReportAndChart(@TempDir Path out) throws Exception {
        LoadDriver driver = new LoadDriver(LoadDriver.Options.parse("--quick",
                "--server-main", StandInKeepServer.class.getName(), "--out", out.toString(), "--max-seconds", "300"));

        assertEquals(0, driver.runWithLimits());

        String report = Files.readString(out.resolve("load-report.md"));
        assertTrue(report.contains("| MD5, one core"), report);
        assertTrue(report.contains("PUT 2 MiB, 8 streams"), report);
        assertTrue(report.contains("GET 1 KiB, 64 connections"), report);
        assertTrue(report.contains("GET /index, 500 blocks"), report);
        assertTrue(!report.contains("PROBLEM"), report);
        assertTrue(Files.readString(out.resolve("load-report.svg")).startsWith("<svg"));
        assertTrue(Files.notExists(out.resolve("load-volumes").resolve("large")), "volumes are removed");
    }

    @Test
    void aServerThatJcmdCannotAttachToIsStillMeasured(@TempDir Path out) throws Exception {
        // Like a server that is no JVM at all (another keepstore given with --launcher).
        LoadDriver driver = new LoadDriver(LoadDriver.Options.parse("--quick", "--phases", "index",
                "--server-main", StandInKeepServer.class.getName(),
                "--server-jvm-option", "-XX:+DisableAttachMechanism",
                "--out", out.toString(), "--max-seconds", "300"));

        assertEquals(0, driver.runWithLimits());

        String report = Files.readString(out.resolve("load-report.md"));
        assertTrue(report.contains("GET /index, 500 blocks"), report);
        assertTrue(report.contains("server RSS during /index"), report);
        assertTrue(report.contains("| server live heap growth, mid-/index vs idle (after full GC) | – | – | – | MiB |"
                + " – | < 50 MiB | – | not measured: jcmd cannot attach to this server |"), report);
        assertTrue(!report.contains("PROBLEM"), report);
    }
}
