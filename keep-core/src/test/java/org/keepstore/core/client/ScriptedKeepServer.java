package org.keepstore.core.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A tiny HTTP server on 127.0.0.1 that answers each request with the next scripted response
 * (or a default one), and records what it was asked: enough to see how a client fails over.
 */
public final class ScriptedKeepServer implements AutoCloseable {

    /**
     * One canned answer. {@code pauseMillis} > 0 sends the headers, then the body in {@code
     * pieces} parts with a pause before each part after the first (a stall, or a slow but steady
     * trickle).
     */
    public record Reply(int status, byte[] body, Map<String, String> headers, long pauseMillis, int pieces) {
        public static Reply of(int status, String body) {
            return new Reply(status, body.getBytes(StandardCharsets.UTF_8), Map.of(), 0, 1);
        }

        public static Reply ok(byte[] body) {
            return new Reply(200, body, Map.of(), 0, 1);
        }

        public Reply withHeader(String name, String value) {
            Map<String, String> h = new java.util.HashMap<>(headers);
            h.put(name, value);
            return new Reply(status, body, h, pauseMillis, pieces);
        }

        /** Sends half the body, then waits this long before the rest. */
        public Reply stalling(long millis) {
            return new Reply(status, body, headers, millis, 2);
        }

        /** Sends the body in {@code count} parts, {@code gapMillis} apart. */
        public Reply trickling(int count, long gapMillis) {
            return new Reply(status, body, headers, gapMillis, count);
        }
    }

    /** What a request looked like. */
    public record Seen(String method, String path, String authorization, int bodyLength) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Deque<Reply> script = new ArrayDeque<>();
    private final List<Seen> seen = new ArrayList<>();
    private Reply fallback = Reply.of(404, "Not Found");
    private volatile CountDownLatch gate;

    public ScriptedKeepServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    public String root() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Answers the next requests with these replies, then with the fallback. */
    public synchronized ScriptedKeepServer then(Reply... replies) {
        script.addAll(List.of(replies));
        return this;
    }

    /** Answers every unscripted request with this reply. */
    public synchronized ScriptedKeepServer always(Reply reply) {
        fallback = reply;
        return this;
    }

    public synchronized List<Seen> requests() {
        return List.copyOf(seen);
    }

    /** Makes every request wait for {@code latch} before it is answered (null: answer at once). */
    public void holdResponsesUntil(CountDownLatch latch) {
        this.gate = latch;
    }

    private void handle(HttpExchange exchange) throws IOException {
        CountDownLatch waitFor = gate;
        if (waitFor != null) {
            try {
                waitFor.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.close();
                return;
            }
        }
        int bodyLength;
        try (InputStream in = exchange.getRequestBody()) {
            bodyLength = in.readAllBytes().length;
        }
        Reply reply;
        synchronized (this) {
            seen.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    exchange.getRequestHeaders().getFirst("Authorization"), bodyLength));
            reply = script.isEmpty() ? fallback : script.poll();
        }
        reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(reply.status(), head ? -1 : reply.body().length == 0 ? -1 : reply.body().length);
        if (head) {
            exchange.close();
            return;
        }
        try (OutputStream out = exchange.getResponseBody()) {
            byte[] data = reply.body();
            for (int i = 0; i < reply.pieces(); i++) {
                if (i > 0) {
                    Thread.sleep(reply.pauseMillis());
                }
                int from = (int) ((long) data.length * i / reply.pieces());
                int to = (int) ((long) data.length * (i + 1) / reply.pieces());
                out.write(data, from, to - from);
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The client gave up on this response; nothing to do.
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
