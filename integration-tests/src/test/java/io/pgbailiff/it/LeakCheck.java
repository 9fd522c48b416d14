package io.pgbailiff.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Fails a test class if Netty reported a leaked buffer while it ran. Registered for every test
 * class (see {@code junit-platform.properties}); the tests run with leak detection at PARANOID.
 */
public final class LeakCheck implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 100; j++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
        List<String> leaks = new ArrayList<>(LeakRecorder.LEAKS);
        LeakRecorder.LEAKS.clear();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " buffer leak(s) reported during " + context.getDisplayName()
                    + ":\n" + String.join("\n\n", leaks));
        }
    }
}
