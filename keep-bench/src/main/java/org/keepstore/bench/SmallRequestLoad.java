package org.keepstore.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Closed-loop load of small requests over many keep-alive connections, driven by one thread with
 * a selector: each connection sends a request, waits for the whole response, and sends the next.
 * One thread keeps the client's share of the two cores small, so the figure is the server's.
 */
final class SmallRequestLoad {
    private static final int RESPONSE_BUFFER = 16 * 1024;

    /** Supplies the complete bytes of the next request for a connection. */
    interface RequestSource {
        ByteBuffer next(int connection);
    }

    /**
     * @param completed  responses with the expected status that arrived before the deadline
     * @param failed     responses with another status
     * @param seconds    the measured interval
     * @param firstError a description of the first failure, or null
     * @param unanswered requests still without a response 10 s after the deadline (their
     *                   connections are given up)
     */
    record Result(long completed, long failed, double seconds, String firstError, int unanswered) {
        double requestsPerSecond() {
            return completed / seconds;
        }
    }

    private static final class Connection {
        final int index;
        final SocketChannel channel;
        final ByteBuffer response = ByteBuffer.allocate(RESPONSE_BUFFER);
        ByteBuffer request;

        Connection(int index, SocketChannel channel) {
            this.index = index;
            this.channel = channel;
        }
    }

    private SmallRequestLoad() {
    }

    /**
     * Runs {@code connections} connections for {@code seconds}; counts only responses that
     * completed within that time.
     */
    static Result run(int port, int connections, double seconds, int expectedStatus, RequestSource source)
            throws IOException {
        List<Connection> all = new ArrayList<>(connections);
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < connections; i++) {
                SocketChannel channel = SocketChannel.open();
                all.add(new Connection(i, channel));
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                channel.configureBlocking(false);
            }
            long completed = 0;
            long failed = 0;
            String firstError = null;
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            for (Connection c : all) {
                c.channel.register(selector, 0, c);
                startRequest(c, source, selector);
            }
            int outstanding = connections;
            long drainDeadline = deadline + 10_000_000_000L;
            while (outstanding > 0) {
                long now = System.nanoTime();
                if (now > drainDeadline) {
                    break;
                }
                selector.select(100);
                now = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    Connection c = (Connection) key.attachment();
                    if (key.isWritable()) {
                        c.channel.write(c.request);
                        if (!c.request.hasRemaining()) {
                            key.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (key.isReadable()) {
                        if (c.channel.read(c.response) < 0) {
                            throw new IOException("server closed connection " + c.index);
                        }
                        int status = completeResponseStatus(c.response);
                        if (status > 0) {
                            c.response.clear();
                            if (now <= deadline) {
                                if (status == expectedStatus) {
                                    completed++;
                                } else {
                                    failed++;
                                    if (firstError == null) {
                                        firstError = "status " + status + " (expected " + expectedStatus + ")";
                                    }
                                }
                                startRequest(c, source, selector);
                            } else {
                                key.interestOps(0);
                                outstanding--;
                            }
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
            return new Result(completed, failed, (deadline - start) / 1e9, firstError, outstanding);
        } finally {
            for (Connection c : all) {
                c.channel.close();
            }
        }
    }

    private static void startRequest(Connection c, RequestSource source, Selector selector) throws IOException {
        c.request = source.next(c.index);
        c.channel.write(c.request);
        c.channel.keyFor(selector).interestOps(c.request.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    /**
     * The status of the response in {@code buffer} (written from 0 to position) if it is complete,
     * else 0. Only {@code Content-Length} bodies are understood; Keep's small responses have one.
     */
    static int completeResponseStatus(ByteBuffer buffer) throws IOException {
        int end = buffer.position();
        int headEnd = -1;
        for (int i = 0; i + 3 < end; i++) {
            if (buffer.get(i) == '\r' && buffer.get(i + 1) == '\n' && buffer.get(i + 2) == '\r' && buffer.get(i + 3) == '\n') {
                headEnd = i;
                break;
            }
        }
        if (headEnd < 0) {
            if (!buffer.hasRemaining()) {
                throw new IOException("response head larger than " + buffer.capacity() + " bytes");
            }
            return 0;
        }
        String head = new String(buffer.array(), 0, headEnd, StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(head.substring(9, 12));
        long length = contentLength(head);
        if (length < 0) {
            throw new IOException("response without Content-Length: " + head);
        }
        long total = headEnd + 4 + length;
        if (total > buffer.capacity()) {
            throw new IOException("response larger than " + buffer.capacity() + " bytes: " + head);
        }
        if (end > total) {
            throw new IOException("more bytes than one response (" + end + " > " + total + ")");
        }
        return end == total ? status : 0;
    }

    private static long contentLength(String head) {
        int from = 0;
        while (true) {
            int lineStart = head.indexOf("\r\n", from);
            if (lineStart < 0) {
                return -1;
            }
            lineStart += 2;
            if (head.regionMatches(true, lineStart, "content-length:", 0, 15)) {
                int lineEnd = head.indexOf("\r\n", lineStart);
                String value = head.substring(lineStart + 15, lineEnd < 0 ? head.length() : lineEnd).trim();
                return Long.parseLong(value);
            }
            from = lineStart;
        }
    }
}
