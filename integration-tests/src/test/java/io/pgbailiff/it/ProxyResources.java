package io.pgbailiff.it;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Direct and heap memory held by Netty's pooled allocator and by unpooled direct buffers. */
    static long bufferMemory() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory() + PlatformDependent.usedDirectMemory();
    }
}
