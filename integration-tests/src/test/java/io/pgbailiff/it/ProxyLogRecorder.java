package io.pgbailiff.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Collects pgbailiff's own warnings and errors (loggers under {@code io.pgbailiff}) so tests can check them. */
public final class ProxyLogRecorder extends AppenderBase<ILoggingEvent> {
    /** One recorded line. */
    record Line(Level level, String logger, String message) {
    }

    static final Queue<Line> LINES = new ConcurrentLinkedQueue<>();

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
            LINES.add(new Line(event.getLevel(), event.getLoggerName(), event.getFormattedMessage()));
        }
    }

    /** The lines recorded so far at ERROR level. */
    static List<Line> errors() {
        return LINES.stream().filter(l -> l.level() == Level.ERROR).toList();
    }

    /** The lines recorded so far by that logger. */
    static List<Line> from(String logger) {
        return LINES.stream().filter(l -> l.logger().equals(logger)).toList();
    }
}
