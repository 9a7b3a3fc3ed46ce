package org.keepstore.volumes;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP endpoint on 127.0.0.1 that accepts connections and then neither reads nor answers: a
 * frozen service. Closing it closes every connection it accepted.
 */
public final class SilentServer implements AutoCloseable {
    private final ServerSocket socket;
    private final List<Socket> accepted = new ArrayList<>();

    /** One that takes what the kernel buffers allow and no more. */
    public SilentServer() throws IOException {
        this(0);
    }

    /**
     * @param receiveBuffer the accepted sockets' receive buffer in bytes (0: the system's), kept
     *                      small so that a sender stalls as soon as its own buffer is full
     */
    public SilentServer(int receiveBuffer) throws IOException {
        socket = new ServerSocket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = socket.accept();
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (IOException closed) {
                // closed: the test is over
            }
        }, "silent-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}
