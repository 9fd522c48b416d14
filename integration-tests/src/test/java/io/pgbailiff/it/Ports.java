package io.pgbailiff.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Loopback ports for tests. */
final class Ports {
    private Ports() {
    }

    /** A port nothing listens on right now: bound and released at once. */
    static int free() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
