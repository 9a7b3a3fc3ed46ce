package org.keepstore.reliability;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Makes malformed or random HTTP/1.1 requests: bad methods and versions, locators and paths
 * mangled in every way SPEC §1 and §3 care about, {@code ..} and {@code %2f} traversal attempts,
 * non-ASCII bytes, huge, missing, repeated or broken headers, invalid chunked encoding, bodies
 * shorter or longer than announced, JSON garbage for the admin endpoints, and plain noise. Each
 * case comes from its own seed, so a failing case can be made again.
 */
final class RequestFuzzer {
    /**
     * One request as bytes. {@code framed}: its end is well defined, so the server can answer
     * without waiting for more. {@code asksUnknownClass}: it names a storage class no volume
     * offers, which SPEC §3 answers with 507 - the one 5xx a client can ask for.
     */
    record Case(byte[] bytes, boolean framed, boolean asksUnknownClass, String summary) {
    }

    private static final String HASH_CHARS = "0123456789abcdef";
    private static final List<String> METHODS = List.of("GET", "HEAD", "PUT", "DELETE", "TOUCH", "OPTIONS", "POST",
            "PATCH", "TRACE", "CONNECT", "PROPFIND", "get", "Put", "G\u00c9T", "", "GET GET", "\u0000", "PUT\t");
    private static final List<String> ADMIN_PATHS = List.of("/index", "/index/", "/index/0", "/index/zz",
            "/index/0123456789abcdef0123456789abcdef0", "/mounts", "/mounts/", "/mounts/x/blocks",
            "/mounts/zzzzz-nyw5e-000000000000000/blocks", "/mounts//blocks/", "/pull", "/trash", "/untrash/",
            "/untrash/d41d8cd98f00b204e9800998ecf8427e", "/_health/ping", "/_health/", "/_health/../metrics",
            "/metrics", "/status.json", "/debug.json", "/", "//", "///", "/index?prefix=%zz", "/index?prefix=",
            "/index?prefix=" + "a".repeat(40));
    private static final List<String> TRAVERSALS = List.of("/../canary/secret.txt", "/%2e%2e/%2e%2e/canary/secret.txt",
            "/..%2f..%2fcanary%2fsecret.txt", "/%2e%2e%2f%2e%2e%2fcanary", "/d41/../../canary/secret.txt",
            "/d41d8cd98f00b204e9800998ecf8427e/../../canary", "/..", "/.", "/./index", "/%2fetc%2fpasswd",
            "//etc/passwd", "/....//....//canary", "/%252e%252e/canary", "/..\\..\\canary", "/%c0%ae%c0%ae/canary",
            "/mounts/..%2f..%2f/blocks", "/untrash/..%2f..%2fcanary%2fsecret.txt", "/index/..%2f",
            "/d41d8cd98f00b204e9800998ecf8427e%2f..%2f..%2fcanary", "/%00", "/a%00b", "/%", "/%g0", "/%%", "/%2");

    private final String adminToken;
    private final List<String> storedLocators;

    RequestFuzzer(String adminToken, List<String> storedLocators) {
        this.adminToken = adminToken;
        this.storedLocators = storedLocators;
    }

    Case make(long seed) {
        Random r = new Random(seed);
        if (r.nextInt(40) == 0) {
            return noise(r);
        }
        String method = r.nextInt(5) == 0 ? pick(r, METHODS) : pick(r, List.of("GET", "HEAD", "PUT", "DELETE",
                "TOUCH", "OPTIONS", "PUT", "GET"));
        String target = target(r, method);
        String version = r.nextInt(30) == 0 ? pick(r, List.of("HTTP/1.0", "HTTP/9.9", "HTTP/1.1x", "", "http/1.1",
                "HTTP/2.0", "HTTP/1.1 extra")) : "HTTP/1.1";
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(target);
        if (!version.isEmpty()) {
            head.append(' ').append(version);
        }
        head.append("\r\n");
        if (r.nextInt(20) != 0) {
            head.append("Host: 127.0.0.1\r\n");
        }
        if (r.nextInt(3) == 0) {
            head.append("Authorization: ").append(authorization(r)).append("\r\n");
        }
        byte[] body = body(r, target);
        boolean framed = true;
        String framing;
        int f = r.nextInt(12);
        byte[] wire;
        if (f < 6) {
            // Honest Content-Length (or none for an empty body).
            framing = "length";
            if (body.length > 0 || r.nextBoolean()) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            wire = body;
        } else if (f < 8) {
            framing = "chunked";
            head.append("Transfer-Encoding: chunked\r\n");
            wire = chunked(r, body);
        } else if (f == 8) {
            framing = "bad chunked";
            head.append("Transfer-Encoding: ").append(pick(r, List.of("chunked", "chunked, gzip", "gzip", "identity",
                    "chunked\u00ff", "chunked, chunked"))).append("\r\n");
            wire = badChunked(r, body);
            framed = false;
        } else if (f == 9) {
            framing = "short body";
            head.append("Content-Length: ").append(body.length + 1 + r.nextInt(1000)).append("\r\n");
            wire = body;
            framed = false;
        } else if (f == 10) {
            framing = "bad length";
            head.append("Content-Length: ").append(pick(r, List.of("-1", "abc", "99999999999999999999", " 5",
                    "5, 6", "0x10", "", "+4", "4.0", "9223372036854775807", "67108865"))).append("\r\n");
            if (r.nextBoolean()) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            wire = body;
            framed = false;
        } else {
            framing = "long body";
            head.append("Content-Length: ").append(body.length).append("\r\n");
            wire = concat(body, randomBytes(r, 1 + r.nextInt(500)));
            framed = false;
        }
        boolean asksUnknownClass = extraHeaders(r, head);
        if (r.nextInt(25) == 0) {
            framed = false;
            if (r.nextBoolean()) {
                // Headers never finished.
                return new Case(head.toString().getBytes(StandardCharsets.UTF_8), false, asksUnknownClass,
                        method + " " + abbreviate(target) + " unfinished headers");
            }
            String broken = pick(r, List.of("NoColonHeader\r\n", " folded continuation\r\n", ": empty name\r\n",
                    "X-Bad\u0000Name: v\r\n", "X-Nl: a\rb\r\n"));
            head.append(broken);
            // A folded line continues the header before it, which may be the storage classes.
            asksUnknownClass |= broken.startsWith(" ") && head.indexOf("X-Keep-Storage-Classes") >= 0;
        }
        head.append("\r\n");
        byte[] bytes = concat(head.toString().getBytes(r.nextInt(10) == 0 ? StandardCharsets.ISO_8859_1
                : StandardCharsets.UTF_8), wire);
        return new Case(bytes, framed, asksUnknownClass, method + " " + abbreviate(target) + " " + framing
                + (asksUnknownClass ? " unknown storage class" : ""));
    }

    private String target(Random r, String method) {
        String path = switch (r.nextInt(12)) {
            case 0, 1, 2 -> "/" + locator(r);
            case 3 -> "/" + mangledLocator(r);
            case 4 -> pick(r, ADMIN_PATHS);
            case 5 -> pick(r, TRAVERSALS);
            case 6 -> "/" + nonAscii(r);
            case 7 -> "/" + "x".repeat(r.nextInt(20) == 0 ? 100_000 : r.nextInt(3000));
            case 8 -> storedLocators.isEmpty() ? "/" : "/" + storedLocators.get(r.nextInt(storedLocators.size()))
                    + (r.nextBoolean() ? "+A" + hex(r, 40) + "@" + hex(r, 8) : "");
            case 9 -> "/" + locator(r) + "+R" + pick(r, List.of("zzzzz", "", "x@y", "%2f"));
            case 10 -> pick(r, List.of("*", "http://127.0.0.1/index", "index", "", "?", "/?", "/#frag", "%2f"));
            default -> "/" + hex(r, r.nextInt(40));
        };
        if (r.nextInt(8) == 0) {
            path += "?" + pick(r, List.of("api_token=" + hex(r, 30), "api_token=" + adminToken, "prefix=0",
                    "prefix=%", "a=b&a=c", "&&&", "api_token=", "x=%zz", "=" + nonAscii(r)));
        }
        return path;
    }

    private static String locator(Random r) {
        StringBuilder s = new StringBuilder(hex(r, 32));
        if (r.nextInt(4) != 0) {
            s.append('+').append(r.nextInt(10) == 0 ? Long.toString(r.nextLong()) : Integer.toString(r.nextInt(1 << 26)));
        }
        int hints = r.nextInt(3);
        for (int i = 0; i < hints; i++) {
            s.append('+').append(pick(r, List.of("A", "K", "R", "Z", "B", "")))
                    .append(r.nextBoolean() ? hex(r, 40) + "@" + hex(r, 8) : hex(r, r.nextInt(50)));
        }
        return s.toString();
    }

    private static String mangledLocator(Random r) {
        String base = locator(r);
        return switch (r.nextInt(9)) {
            case 0 -> base.toUpperCase();
            case 1 -> base.substring(1);
            case 2 -> "0" + base;
            case 3 -> base + "+";
            case 4 -> base.replaceFirst("\\+", "++");
            case 5 -> "+" + base;
            case 6 -> base + "+Afoo+0";
            case 7 -> base.substring(0, 32) + "+" + "9".repeat(30);
            default -> base.replace('a', 'g');
        };
    }

    private String authorization(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> "Bearer " + adminToken;
            case 1 -> "OAuth2 " + hex(r, 30);
            case 2 -> "Bearer";
            case 3 -> "Basic " + hex(r, 12);
            case 4 -> "Bearer " + nonAscii(r);
            case 5 -> "Bearer " + "t".repeat(r.nextInt(20_000));
            case 6 -> "";
            default -> "Bearer " + hex(r, 40);
        };
    }

    private byte[] body(Random r, String target) {
        if (r.nextInt(3) == 0) {
            return new byte[0];
        }
        if (target.startsWith("/pull") || target.startsWith("/trash") || r.nextInt(10) == 0) {
            return pick(r, List.of("[]", "{}", "[{}]", "[{\"locator\":\"x\"}]", "null", "[", "\"", "[1,2,3]",
                    "[{\"locator\":\"d41d8cd98f00b204e9800998ecf8427e+0\",\"servers\":[\"http://127.0.0.1:1\"]}]",
                    "[{\"locator\":\"d41d8cd98f00b204e9800998ecf8427e\",\"servers\":null}]",
                    "[{\"locator\":\"d41d8cd98f00b204e9800998ecf8427e+0\",\"block_mtime\":\"x\"}]",
                    "[{\"locator\":\"d41d8cd98f00b204e9800998ecf8427e+0\",\"block_mtime\":1e400}]",
                    "[{\"locator\":7,\"mount_uuid\":[]}]", "[" + "[".repeat(5000), "\u00ff\u00fe",
                    "[{\"locator\":\"" + hex(r, 32) + "+1\",\"servers\":[\"" + nonAscii(r) + "\"]}]"))
                    .getBytes(StandardCharsets.UTF_8);
        }
        return randomBytes(r, r.nextInt(20) == 0 ? r.nextInt(2 << 20) : r.nextInt(2000));
    }

    /** Adds random headers; true if they ask for a storage class other than "default". */
    private static boolean extraHeaders(Random r, StringBuilder head) {
        boolean unknownClass = false;
        int n = r.nextInt(10) == 0 ? r.nextInt(300) : r.nextInt(3);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(10)) {
                case 0 -> head.append("Expect: ").append(r.nextBoolean() ? "100-continue" : "200-ok").append("\r\n");
                case 1 -> {
                    String classes = pick(r, List.of("default", "", ",,,", "nope", "a, b, c", nonAscii(r)));
                    head.append("X-Keep-Storage-Classes: ").append(classes).append("\r\n");
                    unknownClass |= !classes.replace(",", "").isBlank() && !classes.equals("default");
                }
                case 2 -> head.append("X-Keep-Desired-Replicas: ")
                        .append(pick(r, List.of("2", "-1", "x", "99999999999"))).append("\r\n");
                case 3 -> head.append("X-Request-Id: ").append("r".repeat(r.nextInt(5000))).append("\r\n");
                case 4 -> head.append("X-Huge: ").append("h".repeat(r.nextInt(r.nextInt(5) == 0 ? 200_000 : 4000)))
                        .append("\r\n");
                case 5 -> head.append("X-").append(nonAscii(r)).append(": ").append(nonAscii(r)).append("\r\n");
                case 6 -> head.append("Connection: ").append(pick(r, List.of("close", "keep-alive", "upgrade", "x")))
                        .append("\r\n");
                case 7 -> head.append("Upgrade: ").append(pick(r, List.of("h2c", "websocket", "x"))).append("\r\n");
                case 8 -> head.append("X-Keep-Signature: ").append(pick(r, List.of("local", "local, x", ""))).append("\r\n");
                default -> head.append("X-Random-").append(i).append(": ").append(hex(r, 16)).append("\r\n");
            }
        }
        return unknownClass;
    }

    private static byte[] chunked(Random r, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (pos < body.length) {
            int n = Math.min(body.length - pos, 1 + r.nextInt(4096));
            out.writeBytes((Integer.toHexString(n) + (r.nextInt(10) == 0 ? ";ext=1" : "") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body, pos, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            pos += n;
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static byte[] badChunked(Random r, byte[] body) {
        String size = pick(r, List.of("zz", "-1", "ffffffffffffffffff", "", " 5", "5 5", "0x5", "\u00ff"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (r.nextBoolean() && body.length > 0) {
            out.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, r.nextInt(body.length));
        }
        out.writeBytes((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(randomBytes(r, r.nextInt(100)));
        if (r.nextBoolean()) {
            out.writeBytes("\r\n0\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private static Case noise(Random r) {
        byte[] bytes = switch (r.nextInt(5)) {
            case 0 -> randomBytes(r, 1 + r.nextInt(3000));
            case 1 -> "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            case 2 -> "GET /\r\n".getBytes(StandardCharsets.US_ASCII);
            case 3 -> "\r\n\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            default -> ("GET / HTTP/1.1\r\n" + "X: y\r\n".repeat(10_000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        };
        return new Case(bytes, false, false, "noise");
    }

    private static String nonAscii(Random r) {
        return pick(r, List.of("\u00e9t\u00e9", "\u65e5\u672c", "\ud83d\ude00", "\u0000", "\u00ff\u00fe", "%ff%fe",
                "%c3%a9", "\u202e", "caf\u00e9/../", "\t", " ", "\u007f"));
    }

    private static String hex(Random r, int n) {
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(HASH_CHARS.charAt(r.nextInt(16)));
        }
        return s.toString();
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static <T> T pick(Random r, List<T> list) {
        return list.get(r.nextInt(list.size()));
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…(" + s.length() + ")" : s;
    }
}
