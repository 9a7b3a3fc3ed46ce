package org.keepstore.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A small HTTP client for the tests: java.net.http for ordinary requests, raw sockets for
 * wire-level cases. Also used by keep-reliability's tests (through this module's test-jar), hence
 * public.
 */
public class TestHttp {
    public record Response(int status, Map<String, String> headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final String host;
    private final int port;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(30)).build();

    public TestHttp(String host, int port) {
        this.host = host;
        this.port = port;
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://" + host + ":" + port + pathAndQuery);
    }

    public Response send(String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        Map<String, String> h = new LinkedHashMap<>();
        r.headers().map().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
        return new Response(r.statusCode(), h, r.body());
    }

    public Response get(String path, String... headers) throws IOException, InterruptedException {
        return send("GET", path, null, headers);
    }

    public Response put(String path, byte[] body, String... headers) throws IOException, InterruptedException {
        return send("PUT", path, body, headers);
    }

    /** Opens a raw connection (for chunked bodies, Expect: 100-continue, short bodies). */
    public Socket socket() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 30_000);
        s.setSoTimeout(120_000);
        return s;
    }

    /** Reads a response head (status line and headers) from a raw connection. */
    static Response readHead(InputStream in) throws IOException {
        String status = readLine(in);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        return new Response(Integer.parseInt(status.split(" ")[1]), headers, new byte[0]);
    }

    /** Reads a whole response with a Content-Length body. */
    static Response readResponse(InputStream in) throws IOException {
        Response head = readHead(in);
        String length = head.header("content-length");
        byte[] body = length == null ? new byte[0] : in.readNBytes(Integer.parseInt(length));
        return new Response(head.status(), head.headers(), body);
    }

    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                line.write(c);
            }
        }
        if (c == -1 && line.size() == 0) {
            throw new IOException("connection closed");
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    public static String md5(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] randomBlock(int size, long seed) {
        byte[] data = new byte[size];
        new java.util.Random(seed).nextBytes(data);
        return data;
    }
}
