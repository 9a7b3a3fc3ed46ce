package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that hold connections open without finishing: slowloris headers, a PUT body trickling a
 * byte a second, a GET client that stops reading. Each holds at most one request slot (and one
 * buffer), other clients are served meanwhile, and the server's timeouts end them. The server runs
 * with short timeouts here ({@code -Dkeepstore.http.*}, see KeepHttpServer) so the test is quick.
 */
class SlowClientsIT {
    private static final int SLOWLORIS = 30;

    @TempDir
    Path tmp;

    @Test
    void slowClientsAreServedTheirShareAndTimedOut() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        Random random = new Random();
        try (Keepstore server = Keepstore.start(tmp, "slow", List.of("-Xmx512m",
                "-Dkeepstore.http.headerTimeout=8s", "-Dkeepstore.http.idleTimeout=8s",
                "-Dkeepstore.http.bodyTimeout=12s"), List.of("-volume=" + vol, "-max-buffers=3", "-max-requests=8"))) {
            byte[] big = Http.randomBlock(64 << 20, random);
            String bigLocator = server.http.putBlock(big);
            assertNotNull(bigLocator);
            int fdsBefore = server.openFds();
            java.util.Map<String, Integer> fdKindsBefore = server.fdTargets();

            // Slowloris: many connections, each sending one header line a second, never ending.
            List<Socket> loris = new ArrayList<>();
            try {
                for (int i = 0; i < SLOWLORIS; i++) {
                    Socket s = server.http.socket();
                    write(s, "GET /_health/ping HTTP/1.1\r\nHost: x\r\n");
                    loris.add(s);
                }
                // A PUT body that trickles one byte a second.
                Socket trickle = server.http.socket();
                loris.add(trickle);
                byte[] small = Http.randomBlock(1000, random);
                write(trickle, "PUT /" + Http.md5(small) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
                // A GET of a 64 MiB block whose client never reads the body.
                Socket stalled = server.http.socket();
                stalled.setReceiveBufferSize(4096);
                loris.add(stalled);
                write(stalled, "GET /" + bigLocator + " HTTP/1.1\r\nHost: x\r\n\r\n");

                // Meanwhile, everyone else is served.
                long start = System.nanoTime();
                int served = 0;
                int servedWhileAllSlowHeld = 0;
                int trickled = 0;
                boolean[] closed = new boolean[loris.size()];
                while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(90) && !allTrue(closed)) {
                    byte[] data = Http.randomBlock(1 + random.nextInt(1 << 20), random);
                    String locator = server.http.putBlock(data);
                    assertNotNull(locator, "a normal PUT is served while slow clients hang on");
                    assertEquals(200, server.http.get("/" + locator).status());
                    served++;
                    if (!anyTrue(closed)) {
                        servedWhileAllSlowHeld++;
                    }
                    for (int i = 0; i < SLOWLORIS; i++) {
                        if (!closed[i]) {
                            closed[i] = !writeQuietly(loris.get(i), "X-Slow-" + i + ": still here\r\n");
                        }
                    }
                    if (!closed[SLOWLORIS]) {
                        closed[SLOWLORIS] = !writeQuietly(trickle, new String(small, trickled++, 1,
                                StandardCharsets.ISO_8859_1));
                    }
                    if (!closed[SLOWLORIS + 1]) {
                        // The stalled client reads nothing, so look from the server's side: the
                        // request has ended once its access-log line is written.
                        closed[SLOWLORIS + 1] = server.logText().lines()
                                .anyMatch(l -> l.contains("GET /" + bigLocator.substring(0, 32)));
                    }
                    String status = server.http.get("/status.json").text();
                    assertTrue(!status.contains("\"BuffersInUse\":4"), "one buffer per admitted request: " + status);
                    Thread.sleep(1000);
                }
                int timedOut = 0;
                for (boolean c : closed) {
                    timedOut += c ? 1 : 0;
                }
                Suite.figure("slow clients: normal PUT+GET pairs served while every slow client still hung on",
                        servedWhileAllSlowHeld);
                assertTrue(servedWhileAllSlowHeld > 0, "slow clients held only their share: others were served");
                Suite.figure("slow clients: slow connections ended by the server", timedOut + " of " + closed.length
                        + " (" + SLOWLORIS + " slowloris, 1 trickling PUT, 1 stalled GET)");
                for (int i = 0; i < closed.length; i++) {
                    assertTrue(closed[i], "slow connection " + i + " was never timed out");
                }
                assertEquals(0, trickledToCompletion(trickled), "the trickling PUT did not get to finish");
            } finally {
                for (Socket s : loris) {
                    s.close();
                }
            }
            Thread.sleep(1000);
            String status = server.http.get("/status.json").text();
            assertTrue(status.contains("\"BuffersInUse\":0"), "no buffer held after the slow clients: " + status);
            int fdsAfter = server.openFds();
            Suite.figure("slow clients: fds before / after", fdsBefore + " / " + fdsAfter);
            assertTrue(server.logText().contains("request body not complete after"), "the trickle was timed out");
            server.awaitNoFdLeak(fdKindsBefore, 8 + 8, 2);
        }
    }

    private static int trickledToCompletion(int bytesSent) {
        return bytesSent >= 1000 ? 1 : 0;
    }

    private static boolean anyTrue(boolean[] flags) {
        for (boolean f : flags) {
            if (f) {
                return true;
            }
        }
        return false;
    }

    private static boolean allTrue(boolean[] flags) {
        for (boolean f : flags) {
            if (!f) {
                return false;
            }
        }
        return true;
    }

    private static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /**
     * Sends more of a slow request; false once the server has ended the connection (it answered,
     * e.g. 408, and closed, or reset it).
     */
    private static boolean writeQuietly(Socket s, String text) {
        try {
            if (connectionEnded(s)) {
                return false;
            }
            write(s, text);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** True if the server closed the connection (or answered and closed); never blocks long. */
    private static boolean connectionEnded(Socket s) {
        try {
            s.setSoTimeout(1);
            InputStream in = s.getInputStream();
            byte[] sink = new byte[1 << 16];
            // Whatever the server sent before closing (e.g. a 408) is skipped.
            while (true) {
                int n = in.read(sink);
                if (n < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
