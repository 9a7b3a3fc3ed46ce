package org.keepstore.volumes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP endpoint on 127.0.0.1 that answers every request with 200, a Content-Length of
 * {@code promised} bytes and the given headers, sends only {@code sent} bytes and closes the
 * connection: a response cut off mid-body, as a failing service or network leaves it.
 */
public final class CuttingServer implements AutoCloseable {
    private final ServerSocket socket;

    public CuttingServer(int promised, int sent, String extraHeaders) throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + promised + "\r\n" + extraHeaders + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        Thread server = new Thread(() -> {
            try {
                while (true) {
                    try (Socket s = socket.accept()) {
                        skipRequestHeaders(s.getInputStream());
                        OutputStream out = s.getOutputStream();
                        out.write(head);
                        out.write(new byte[sent]);
                        out.flush();
                    }
                }
            } catch (IOException closed) {
                // closed: the test is over
            }
        }, "cutting-server");
        server.setDaemon(true);
        server.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** Reads up to the blank line that ends a request's headers (the requests here have no body). */
    private static void skipRequestHeaders(InputStream in) throws IOException {
        int c;
        int previous = -1;
        int lineLength = 0;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                if (lineLength == 0 || (lineLength == 1 && previous == '\r')) {
                    return;
                }
                lineLength = 0;
            } else {
                lineLength++;
            }
            previous = c;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
