package org.keepstore.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.Random;

import org.keepstore.server.TestHttp;

/**
 * keep-server's test HTTP client, plus what the reliability tests need on top: acknowledged block
 * PUTs, one-shot raw exchanges and a shorter socket read timeout.
 */
final class Http extends TestHttp {
    Http(String host, int port) {
        super(host, port);
    }

    /** PUTs a block; returns the locator the server acknowledged, or null if it did not answer 200. */
    String putBlock(byte[] data, String... headers) throws IOException, InterruptedException {
        Response r = put("/" + md5(data), data, headers);
        return r.status() == 200 ? r.text().trim() : null;
    }

    /** A raw connection whose reads give up after a minute (the slow-client tests count on it). */
    @Override
    public Socket socket() throws IOException {
        Socket s = super.socket();
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

    static byte[] randomBlock(int size, Random random) {
        byte[] data = new byte[size];
        random.nextBytes(data);
        return data;
    }
}
