package io.pgbailiff.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OneLineMessageTest {

    @Test
    void controlCharactersAreWrittenAsEscapes() {
        String plain = "cancel session: by user alice: done";
        assertSame(plain, OneLineMessage.escape(plain));
        assertEquals("a\\nb\\r\\nc\\x00d\\x1b[31m\te\\x7f", OneLineMessage.escape("a\nb\r\nc\u0000d\u001b[31m\te\u007f"));
        assertEquals("\\x2028 \\x2029", OneLineMessage.escape("\u2028 \u2029"));
    }

    /** The bundled configuration is what a deployment logs with: a forged line stays inside its event's line. */
    @Test
    void theBundledConfigurationWritesEachEventOnOneLine() throws Exception {
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(getClass().getResource("/logback.xml"));
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> console = (OutputStreamAppender<ILoggingEvent>)
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
        LoggingEvent event = new LoggingEvent("test", context.getLogger("io.pgbailiff.audit"), Level.INFO,
                "cancel sessions: by user {} on {}", null,
                new Object[]{"alice", "'zz\n13:40:00.000 INFO  audit - cancel session: by user postgres: done\n'"});
        String line = new String(console.getEncoder().encode(event), StandardCharsets.UTF_8);
        assertEquals(1, line.split("\n", -1).length - 1, line);
        assertTrue(line.endsWith("on 'zz\\n13:40:00.000 INFO  audit - cancel session: by user postgres: done\\n'\n"), line);
        context.stop();
    }
}
