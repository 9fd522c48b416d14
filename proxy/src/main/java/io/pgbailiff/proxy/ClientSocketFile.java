package io.pgbailiff.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The Unix-domain socket clients may connect to besides TCP, kept as PostgreSQL keeps its own: a
 * socket file left behind by a server that did not stop cleanly is replaced, one that still
 * answers is not, and anything else at that path is left alone; the file is open to every local
 * user (PostgreSQL's default {@code unix_socket_permissions}, 0777), who must still authenticate
 * to the backend. Closing the channel deletes the file.
 */
final class ClientSocketFile {
    private static final int FILE_TYPE_MASK = 0170000;
    private static final int SOCKET_FILE = 0140000;

    private ClientSocketFile() {
    }

    static Channel listen(ServerBootstrap acceptor, Path socket) throws InterruptedException {
        String refusal = "--unix-socket-dir: cannot listen on " + socket;
        try {
            removeStale(socket);
        } catch (IOException e) {
            throw new ConfigLoader.InvalidSettingException(refusal + ": " + reason(e));
        }
        Channel listener = ProxyServer.bind(acceptor, new DomainSocketAddress(socket.toString()), refusal);
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            listener.close().syncUninterruptibly();
            throw new ConfigLoader.InvalidSettingException(refusal + ": " + reason(e));
        }
        return listener;
    }

    /**
     * Deletes a socket nobody answers on. The probe does not wait: a server too busy to accept
     * at once is still a server.
     */
    private static void removeStale(Path socket) throws IOException {
        int mode;
        try {
            mode = (int) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if ((mode & FILE_TYPE_MASK) != SOCKET_FILE) {
            throw new IOException("the file exists and is not a socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.configureBlocking(false);
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("another server is listening on it");
        } catch (ConnectException nobodyListens) {
            Files.deleteIfExists(socket);
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return Errors.rootMessage(e);
    }
}
