package org.keepstore.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.Random;

/** A small HTTP client for the tests: java.net.http for ordinary requests, raw sockets for the rest. */
final class Http {
    record Response(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    final String host;
    final int port;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(30)).build();

    Http(String host, int port) {
        this.host = host;
        this.port = port;
    }

    Response send(String method, String path, byte[] body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path))
                .timeout(Duration.ofSeconds(120))
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

    Response get(String path, String... headers) throws IOException, InterruptedException {
        return send("GET", path, null, headers);
    }

    Response put(String path, byte[] body, String... headers) throws IOException, InterruptedException {
        return send("PUT", path, body, headers);
    }

    /** PUTs a block; returns the locator the server acknowledged, or null if it did not answer 200. */
    String putBlock(byte[] data, String... headers) throws IOException, InterruptedException {
        Response r = put("/" + md5(data), data, headers);
        return r.status() == 200 ? r.text().trim() : null;
    }

    Socket socket() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 30_000);
        s.setSoTimeout(60_000);
        return s;
    }

    /**
     * One request on its own connection ({@code Connection: close}): writes {@code head} and
     * {@code body} and reads the status line; -1 if the server closed without answering.
     */
    int rawExchange(byte[] head, byte[] body) throws IOException {
        try (Socket s = socket()) {
            s.getOutputStream().write(head);
            if (body != null) {
                s.getOutputStream().write(body);
            }
            s.getOutputStream().flush();
            return readStatus(s.getInputStream());
        }
    }

    /** The status code of the response on {@code in}, -1 if the connection ends before a status line. */
    static int readStatus(InputStream in) throws IOException {
        String line;
        try {
            line = readLine(in);
        } catch (IOException e) {
            return -1;
        }
        String[] parts = line.split(" ");
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP status line: " + line);
        }
        return Integer.parseInt(parts[1]);
    }

    static String readLine(InputStream in) throws IOException {
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

    static String md5(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] randomBlock(int size, Random random) {
        byte[] data = new byte[size];
        random.nextBytes(data);
        return data;
    }
}
