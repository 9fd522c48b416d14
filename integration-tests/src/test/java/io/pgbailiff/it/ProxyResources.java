package io.pgbailiff.it;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What the in-process proxy holds of the test JVM's resources: open files and buffer memory. */
final class ProxyResources {
    private ProxyResources() {
    }

    /** Open file descriptors of this JVM (sockets included), from {@code /proc/self/fd}. */
    static int openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether a process still holds the server side of the loopback TCP connection from
     * {@code clientPort} to {@code serverPort}: {@code /proc/net/tcp[6]} lists it with an inode until
     * the socket is closed (a closed one may linger, orphaned, while the kernel delivers its data).
     */
    static boolean serverSideOpen(int serverPort, int clientPort) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/net/tcp")));
            if (Files.exists(Path.of("/proc/net/tcp6"))) {
                lines.addAll(Files.readAllLines(Path.of("/proc/net/tcp6"))); // Java's sockets are IPv6 ones where it can
            }
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":") || !f[2].contains(":")) {
                    continue;
                }
                int local = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                int remote = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
                if (local == serverPort && remote == clientPort && !"0".equals(f[9])) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Direct and heap memory held by Netty's pooled allocator and by unpooled direct buffers. */
    static long bufferMemory() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory() + PlatformDependent.usedDirectMemory();
    }
}
