package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets stay secret: a full session (PUTs with tokens in every accepted form, signed and
 * mis-signed GETs and HEADs, every admin call, right and wrong admin tokens) leaves no token, no
 * key and no full signature anywhere in the server's output. Key and token files readable by others
 * are warned about. Without a configured admin token, admin endpoints stay shut for everyone.
 */
class SecretsIT {
    private static final String SIGNING_KEY = "sk-9f1c2e7a5b3d4c6e8f0a1b2c3d4e5f60718293a4";
    private static final String ADMIN_TOKEN = "adm-4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";
    private static final List<String> CLIENT_TOKENS = List.of("v2/zzzzz-gj3su-abcdefghijklmno/tok3n5ecret1",
            "oauthtokensecret2x9y8z7w6v5u4t3s2r1q", "querytokensecret3a1b2c3d4e5f6g7h8i9j0");
    private static final Pattern SIGNATURE = Pattern.compile("\\+A([0-9a-f]{40})@([0-9a-f]{8})");

    @TempDir
    Path tmp;

    @Test
    void aFullSessionLogsNoSecret() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        // Loose permissions on purpose: the server must warn about both files.
        Path key = Files.writeString(tmp.resolve("signing.key"), SIGNING_KEY + "\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        Path token = Files.writeString(tmp.resolve("admin.token"), ADMIN_TOKEN + "\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-rw-r--"));
        List<String> macs = new ArrayList<>();
        String log;
        try (Keepstore server = Keepstore.start(tmp, "secrets", List.of("-Dkeepstore.logLevel=DEBUG"), List.of(
                "-volume=" + vol, "-enforce-permissions", "-blob-signing-key-file=" + key,
                "-data-manager-token-file=" + token, "-never-delete=false", "-trash-lifetime=1h",
                "-blob-signature-ttl=60"))) {
            Http http = server.http;
            Random random = new Random();
            List<String> signed = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] data = Http.randomBlock(1 + random.nextInt(100_000), random);
                String hash = Http.md5(data);
                Http.Response r = switch (i % 3) {
                    case 0 -> http.put("/" + hash, data, "Authorization", "Bearer " + CLIENT_TOKENS.get(0),
                            "X-Request-Id", "req-secrets-" + i);
                    case 1 -> http.put("/" + hash, data, "Authorization", "OAuth2 " + CLIENT_TOKENS.get(1));
                    default -> http.put("/" + hash + "?api_token=" + CLIENT_TOKENS.get(2), data);
                };
                assertEquals(200, r.status(), r.text());
                String locator = r.text().trim();
                Matcher m = SIGNATURE.matcher(locator);
                assertTrue(m.find(), "PUT with a token answers a signed locator: " + locator);
                macs.add(m.group(1));
                signed.add(locator + " " + CLIENT_TOKENS.get(i % 3));
            }
            for (String s : signed) {
                String locator = s.split(" ")[0];
                String clientToken = s.split(" ")[1];
                assertEquals(200, http.get("/" + locator, "Authorization", "Bearer " + clientToken).status());
                assertEquals(200, http.send("HEAD", "/" + locator, null, "Authorization", "OAuth2 " + clientToken)
                        .status());
                assertEquals(200, http.get("/" + locator + "?api_token=" + clientToken).status());
                // The right signature with another token, and a mangled signature: refused, and logged.
                assertEquals(400, http.get("/" + locator, "Authorization", "Bearer " + CLIENT_TOKENS.get(0) + "x")
                        .status());
                int a = locator.indexOf("+A") + 2;
                String mangled = locator.substring(0, a) + (locator.charAt(a) == '0' ? '1' : '0')
                        + locator.substring(a + 1);
                assertNotEquals(200, http.get("/" + mangled, "Authorization", "Bearer " + clientToken).status());
                assertEquals(401, http.get("/" + locator).status());
            }
            String admin = "Bearer " + ADMIN_TOKEN;
            String first = signed.get(0).split(" ")[0];
            String hashAndSize = first.substring(0, first.indexOf("+A"));
            assertEquals(200, http.get("/index", "Authorization", admin).status());
            assertEquals(200, http.get("/index/" + first.substring(0, 2), "Authorization", admin).status());
            assertEquals(200, http.get("/index?api_token=" + ADMIN_TOKEN).status());
            Http.Response mounts = http.get("/mounts", "Authorization", admin);
            assertEquals(200, mounts.status());
            String uuid = mounts.text().replaceAll("(?s).*\"uuid\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            assertEquals(200, http.get("/mounts/" + uuid + "/blocks", "Authorization", admin).status());
            assertEquals(200, http.put("/pull", "[]".getBytes(StandardCharsets.UTF_8), "Authorization", admin).status());
            assertEquals(200, http.put("/trash", ("[{\"locator\":\"" + hashAndSize + "\",\"block_mtime\":1}]")
                    .getBytes(StandardCharsets.UTF_8), "Authorization", admin).status());
            assertEquals(200, http.send("TOUCH", "/" + hashAndSize, null, "Authorization", admin).status());
            http.send("DELETE", "/" + hashAndSize, null, "Authorization", admin);
            http.put("/untrash/" + hashAndSize, new byte[0], "Authorization", admin);
            assertEquals(403, http.get("/index", "Authorization", "Bearer " + CLIENT_TOKENS.get(0)).status());
            assertEquals(403, http.get("/index", "Authorization", "Bearer " + ADMIN_TOKEN + "0").status());
            assertEquals(200, http.get("/status.json").status());
            assertEquals(200, http.get("/metrics").status());
            assertEquals(0, server.terminate());
            log = server.logText();
        }
        assertTrue(log.contains("access GET /"), "the session was logged (access log on)");
        List<String> leaks = new ArrayList<>();
        for (String secret : List.of(SIGNING_KEY, ADMIN_TOKEN, CLIENT_TOKENS.get(0), CLIENT_TOKENS.get(1),
                CLIENT_TOKENS.get(2), ADMIN_TOKEN + "0", CLIENT_TOKENS.get(0) + "x", "tok3n5ecret1")) {
            if (log.contains(secret)) {
                leaks.add("secret " + secret.substring(0, 6) + "…");
            }
        }
        for (String mac : macs) {
            if (log.contains(mac) || log.contains(mac.substring(1))) {
                leaks.add("signature " + mac.substring(0, 6) + "…");
            }
        }
        assertEquals(List.of(), leaks, "secrets in the server's output");
        // Loose permissions: a warning per file, naming the file (not its content).
        assertTrue(log.lines().anyMatch(l -> l.contains("WARN") && l.contains(key.toString())),
                "warns that the signing key file is readable by others");
        assertTrue(log.lines().anyMatch(l -> l.contains("WARN") && l.contains(token.toString())),
                "warns that the admin token file is readable by others");
        Suite.figure("secrets: log lines checked / secrets found", log.lines().count() + " / 0");
        Suite.figure("secrets: signatures issued and checked absent from the log", macs.size());
    }

    @Test
    void adminEndpointsStayShutWithoutAnAdminToken() throws Exception {
        Path vol = Files.createDirectories(tmp.resolve("vol"));
        try (Keepstore server = Keepstore.start(tmp, "noadmin", List.of(), List.of("-volume=" + vol,
                "-never-delete=false"))) {
            Http http = server.http;
            byte[] data = "some block".getBytes(StandardCharsets.UTF_8);
            String locator = http.putBlock(data);
            assertNotNull(locator);
            String mountsUuid = "zzzzz-nyw5e-000000000000000";
            List<String[]> calls = List.of(new String[]{"GET", "/index"}, new String[]{"GET", "/index/0"},
                    new String[]{"GET", "/mounts"}, new String[]{"GET", "/mounts/" + mountsUuid + "/blocks"},
                    new String[]{"PUT", "/pull"}, new String[]{"PUT", "/trash"},
                    new String[]{"PUT", "/untrash/" + locator}, new String[]{"DELETE", "/" + locator},
                    new String[]{"TOUCH", "/" + locator});
            List<String> tokens = new ArrayList<>(java.util.Arrays.asList(null, "", "x", "null", "undefined"));
            int tried = 0;
            for (String[] call : calls) {
                for (String t : tokens) {
                    byte[] body = call[0].equals("PUT") ? "[]".getBytes(StandardCharsets.UTF_8) : null;
                    Http.Response r = t == null ? http.send(call[0], call[1], body)
                            : http.send(call[0], call[1], body, "Authorization", "Bearer " + t);
                    assertTrue(r.status() == 401 || r.status() == 403,
                            call[0] + " " + call[1] + " with token " + t + ": " + r.status());
                    tried++;
                }
            }
            assertEquals(200, http.get("/" + locator).status(), "the block is still there");
            assertFalse(server.logText().isEmpty());
            Suite.figure("secrets: admin calls refused with no admin token configured", tried + " of " + tried);
        }
    }
}
