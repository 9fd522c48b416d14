package io.pgbailiff.it;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects pgbailiff's audit lines (logger {@code io.pgbailiff.audit}) so tests can check them. */
public final class AuditRecorder extends AppenderBase<ILoggingEvent> {
    static final List<String> LINES = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        LINES.add(event.getFormattedMessage());
    }

    static boolean contains(String... parts) {
        return LINES.stream().anyMatch(l -> java.util.Arrays.stream(parts).allMatch(l::contains));
    }
}
