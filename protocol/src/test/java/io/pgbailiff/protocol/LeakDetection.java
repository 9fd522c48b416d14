package io.pgbailiff.protocol;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fails a test class when Netty's paranoid leak detector reports a {@code ByteBuf} that was
 * garbage-collected without being released. Leaks are only reported after a collection, so
 * {@link #afterAll} collects and allocates until the detector has polled its queue.
 */
final class LeakDetection implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        install();
    }

    private static synchronized void install() throws ReflectiveOperationException {
        if (installed) {
            return;
        }
        Field field = AbstractByteBuf.class.getDeclaredField("leakDetector");
        field.setAccessible(true);
        ResourceLeakDetector<?> detector = (ResourceLeakDetector<?>) field.get(null);
        detector.setLeakListener((resourceType, records) -> LEAKS.add(resourceType + records));
        installed = true;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
            ByteBufAllocator.DEFAULT.directBuffer(1).release();
            ByteBufAllocator.DEFAULT.heapBuffer(1).release();
            Unpooled.directBuffer(1).release();
        }
        List<String> leaks = List.copyOf(LEAKS);
        LEAKS.clear();
        assertTrue(leaks.isEmpty(), () -> leaks.size() + " ByteBuf leak(s) in " + context.getDisplayName() + ":\n" + String.join("\n", leaks));
    }
}
