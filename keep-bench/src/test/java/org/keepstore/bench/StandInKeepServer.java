package org.keepstore.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * A tiny stand-in for the keepstore server (the JDK's HttpServer over a directory in the
 * reference layout), so the load driver's own test runs without the real server. It speaks just
 * enough of the protocol: PUT, GET, /index, /_health/ping, and the legacy flags the driver passes.
 */
public final class StandInKeepServer {

    public static void main(String[] args) throws IOException {
        String listen = null;
        Path volume = null;
        String token = null;
        for (String arg : args) {
            if (arg.startsWith("-listen=")) {
                listen = arg.substring("-listen=".length());
            } else if (arg.startsWith("-volume=")) {
                volume = Path.of(arg.substring("-volume=".length()));
            } else if (arg.startsWith("-data-manager-token-file=")) {
                token = Files.readString(Path.of(arg.substring("-data-manager-token-file=".length()))).trim();
            }
        }
        int colon = listen.lastIndexOf(':');
        HttpServer server = HttpServer.create(
                new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1))), 128);
        Path root = volume;
        String adminToken = token;
        server.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, root, adminToken);
            } catch (Exception e) {
                e.printStackTrace();
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.start();
    }

    private static void handle(HttpExchange exchange, Path root, String adminToken) throws Exception {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        if (path.equals("/_health/ping")) {
            reply(exchange, 200, "{\"health\":\"OK\"}");
        } else if (path.equals("/index") && method.equals("GET")) {
            if (!("Bearer " + adminToken).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                reply(exchange, 401, "no token");
                return;
            }
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody(); Stream<Path> files = Files.walk(root, 2)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(file) && file.getFileName().toString().length() == 32) {
                        String line = file.getFileName() + "+" + Files.size(file) + " "
                                + (Files.getLastModifiedTime(file).toMillis() * 1_000_000L) + "\n";
                        out.write(line.getBytes(StandardCharsets.US_ASCII));
                    }
                }
                out.write('\n');
            }
        } else if (method.equals("PUT") && path.length() == 33) {
            String hash = path.substring(1);
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String actual = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
            if (!actual.equals(hash)) {
                reply(exchange, 400, "checksum mismatch");
                return;
            }
            Path dir = root.resolve(hash.substring(0, 3));
            Files.createDirectories(dir);
            Files.write(dir.resolve(hash), body);
            reply(exchange, 200, hash + "+" + body.length + "\n");
        } else if (method.equals("GET") && path.length() > 33) {
            String hash = path.substring(1, 33);
            Path file = root.resolve(hash.substring(0, 3)).resolve(hash);
            if (!Files.exists(file)) {
                reply(exchange, 404, "not found");
                return;
            }
            byte[] data = Files.readAllBytes(file);
            exchange.sendResponseHeaders(200, data.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(data);
            }
        } else {
            reply(exchange, 400, "bad request");
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
