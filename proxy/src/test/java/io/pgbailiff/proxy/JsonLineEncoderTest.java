package io.pgbailiff.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonLineEncoderTest {

    @Test
    void oneObjectPerLineWithTheMessageFormattedAndEscaped() {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("x", context.getLogger("io.pgbailiff.audit"), Level.INFO,
                "cancel by {}: {}", null, new Object[] {"al\"ice", "line\nbreak\t\\ \u0001"});
        event.setThreadName("loop-1");
        event.setTimeStamp(0);
        String line = new String(new JsonLineEncoder().encode(event), StandardCharsets.UTF_8);
        assertEquals("{\"time\":\"1970-01-01T00:00:00Z\",\"level\":\"INFO\",\"logger\":\"io.pgbailiff.audit\","
                + "\"thread\":\"loop-1\",\"message\":\"cancel by al\\\"ice: line\\nbreak\\t\\\\ \\u0001\"}\n", line);
    }

    @Test
    void anExceptionIsOneEscapedField() {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("x", context.getLogger("p"), Level.ERROR, "failed",
                new IllegalStateException("boom"), null);
        event.setThreadName("t");
        String line = new String(new JsonLineEncoder().encode(event), StandardCharsets.UTF_8);
        assertTrue(line.contains("\"exception\":\"java.lang.IllegalStateException: boom\\n\\tat "), line);
        assertEquals(1, line.split("\n", -1).length - 1, "a single line");
    }
}
