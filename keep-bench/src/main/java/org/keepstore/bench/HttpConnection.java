package org.keepstore.bench;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client on one keep-alive connection, for the large transfers of the load
 * driver. It is deliberately thin so that the client costs as little CPU as possible (the
 * driver and the server share two cores): bodies are sent from and received into direct
 * buffers, so the only copies are the kernel's, and received bodies are not retained unless asked.
 */
final class HttpConnection implements Closeable {
    private static final int HEAD_BUFFER = 64 * 1024;
    private static final int BODY_BUFFER = 1 << 20;

    /** A response; {@code body} holds the body only for {@link #request} (small bodies). */
    record Response(int status, Map<String, String> headers, byte[] body, long bodyLength) {
        String bodyText() {
            return body == null ? "" : new String(body, StandardCharsets.UTF_8).trim();
        }
    }

    /** Receives a streamed body chunk by chunk; the buffer is reused after the call. */
    interface BodyConsumer {
        void accept(ByteBuffer chunk) throws IOException;
    }

    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(HEAD_BUFFER).flip();
    private ByteBuffer bodyBuffer;
    private boolean open = true;

    private HttpConnection(SocketChannel channel) {
        this.channel = channel;
    }

    static HttpConnection open(int port) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new HttpConnection(channel);
    }

    boolean isOpen() {
        return open && channel.isOpen();
    }

    /** Sends a request with an optional small body and reads the whole (small) response. */
    Response request(String method, String path, byte[] body, String... headers) throws IOException {
        ByteBuffer bodyBuffer = body == null ? null : ByteBuffer.wrap(body);
        sendHead(method, path, bodyBuffer == null ? -1 : body.length, false, headers);
        if (bodyBuffer != null) {
            writeFully(bodyBuffer);
        }
        return readResponse(!method.equals("HEAD"), true, null);
    }

    /**
     * PUTs {@code body} (its position to limit; the buffer itself is not moved). With
     * {@code expectContinue} the request carries {@code Expect: 100-continue} as the Python SDK's
     * requests do, and the body follows the server's {@code 100 Continue}.
     */
    Response put(String path, ByteBuffer body, boolean expectContinue, String... headers) throws IOException {
        ByteBuffer data = body.duplicate();
        sendHead("PUT", path, data.remaining(), expectContinue, headers);
        if (expectContinue) {
            Map<String, String> head = new LinkedHashMap<>();
            int status = readHead(head);
            if (status != 100) {
                // The server answered without wanting the body; the connection cannot be reused.
                Response response = readBody(status, head, true, true, null);
                close();
                return response;
            }
        }
        writeFully(data);
        return readResponse(true, true, null);
    }

    /**
     * GETs {@code path} and hands the body to {@code consumer} (or discards it when null).
     *
     * @return the response; its {@code bodyLength} is the number of body bytes received
     */
    Response get(String path, BodyConsumer consumer, String... headers) throws IOException {
        sendHead("GET", path, -1, false, headers);
        return readResponse(true, false, consumer);
    }

    private void sendHead(String method, String path, long contentLength, boolean expectContinue, String... headers)
            throws IOException {
        ensureOpen();
        StringBuilder head = new StringBuilder(256)
                .append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\n");
        if (contentLength >= 0) {
            head.append("Content-Length: ").append(contentLength).append("\r\n");
        }
        if (expectContinue) {
            head.append("Expect: 100-continue\r\n");
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        head.append("\r\n");
        writeFully(ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1)));
    }

    private void writeFully(ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            channel.write(data);
        }
    }

    private Response readResponse(boolean hasBody, boolean keepBody, BodyConsumer consumer) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        int status;
        do {
            headers.clear();
            status = readHead(headers);
        } while (status == 100);
        return readBody(status, headers, hasBody, keepBody, consumer);
    }

    private Response readBody(int status, Map<String, String> headers, boolean hasBody, boolean keepBody,
                              BodyConsumer consumer) throws IOException {
        ByteArrayOutputStream kept = keepBody ? new ByteArrayOutputStream() : null;
        BodyConsumer sink = chunk -> {
            if (kept != null) {
                byte[] bytes = new byte[chunk.remaining()];
                chunk.get(bytes);
                kept.write(bytes, 0, bytes.length);
            } else if (consumer != null) {
                consumer.accept(chunk);
            }
        };
        long received = 0;
        boolean noBody = !hasBody || status == 204 || status == 304 || (status >= 100 && status < 200);
        String length = headers.get("content-length");
        String encoding = headers.getOrDefault("transfer-encoding", "");
        if (noBody) {
            received = 0;
        } else if (encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            received = readChunked(sink);
        } else if (length != null) {
            received = readFixed(Long.parseLong(length.trim()), sink);
        } else {
            received = readUntilClose(sink);
        }
        if ("close".equalsIgnoreCase(headers.getOrDefault("connection", ""))) {
            close();
        }
        return new Response(status, headers, kept == null ? null : kept.toByteArray(), received);
    }

    /** Reads a status line and headers (names lower-cased); returns the status code. */
    private int readHead(Map<String, String> headers) throws IOException {
        int end;
        while ((end = headEnd()) < 0) {
            if (in.limit() == in.capacity() && in.position() == 0) {
                throw new IOException("response head longer than " + HEAD_BUFFER + " bytes");
            }
            fill();
        }
        byte[] raw = new byte[end - in.position()];
        in.get(raw);
        in.position(in.position() + 4);
        String[] lines = new String(raw, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + lines[0]);
        }
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        return Integer.parseInt(statusLine[1]);
    }

    /** Index of the CRLFCRLF that ends the head in the unread input, or -1. */
    private int headEnd() {
        for (int i = in.position(); i + 3 < in.limit(); i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Reads more bytes into the unread input; throws at end of stream. */
    private void fill() throws IOException {
        in.compact();
        try {
            int n = channel.read(in);
            if (n < 0) {
                open = false;
                throw new EOFException("server closed the connection");
            }
        } finally {
            in.flip();
        }
    }

    private long readFixed(long length, BodyConsumer sink) throws IOException {
        long remaining = length;
        if (in.hasRemaining() && remaining > 0) {
            int n = (int) Math.min(in.remaining(), remaining);
            ByteBuffer slice = in.slice().limit(n);
            sink.accept(slice);
            in.position(in.position() + n);
            remaining -= n;
        }
        if (remaining > 0 && bodyBuffer == null) {
            bodyBuffer = ByteBuffer.allocateDirect(BODY_BUFFER);
        }
        while (remaining > 0) {
            bodyBuffer.clear().limit((int) Math.min(bodyBuffer.capacity(), remaining));
            int n = channel.read(bodyBuffer);
            if (n < 0) {
                open = false;
                throw new EOFException("server closed the connection after " + (length - remaining)
                        + " of " + length + " body bytes");
            }
            bodyBuffer.flip();
            sink.accept(bodyBuffer);
            remaining -= n;
        }
        return length;
    }

    private long readChunked(BodyConsumer sink) throws IOException {
        long total = 0;
        while (true) {
            String sizeLine = readLine();
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
            if (size == 0) {
                // Trailers, if any, end with an empty line.
                while (!readLine().isEmpty()) {
                    // skip
                }
                return total;
            }
            long remaining = size;
            while (remaining > 0) {
                if (!in.hasRemaining()) {
                    fill();
                }
                int n = (int) Math.min(in.remaining(), remaining);
                sink.accept(in.slice().limit(n));
                in.position(in.position() + n);
                remaining -= n;
            }
            total += size;
            if (!readLine().isEmpty()) {
                throw new IOException("malformed chunked body");
            }
        }
    }

    private long readUntilClose(BodyConsumer sink) throws IOException {
        long total = 0;
        while (true) {
            if (in.hasRemaining()) {
                total += in.remaining();
                sink.accept(in.slice());
                in.position(in.limit());
            }
            in.clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                close();
                return total;
            }
        }
    }

    private String readLine() throws IOException {
        while (true) {
            for (int i = in.position(); i + 1 < in.limit(); i++) {
                if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                    byte[] raw = new byte[i - in.position()];
                    in.get(raw);
                    in.position(in.position() + 2);
                    return new String(raw, StandardCharsets.ISO_8859_1);
                }
            }
            fill();
        }
    }

    private void ensureOpen() throws IOException {
        if (!isOpen()) {
            throw new IOException("connection closed");
        }
    }

    @Override
    public void close() throws IOException {
        open = false;
        channel.close();
    }
}
