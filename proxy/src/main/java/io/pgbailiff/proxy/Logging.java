package io.pgbailiff.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Applies {@code --log-format} and {@code --log-level} on top of the bundled logback.xml
 * (readable console lines); {@code json} switches the console to {@link JsonLineEncoder}.
 */
final class Logging {
    private Logging() {
    }

    static void configure(Config config) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        if (config.logFormat() == Config.LogFormat.JSON) {
            useJson(context);
        }
        for (Map.Entry<String, String> e : config.logLevels().entrySet()) {
            String name = e.getKey().equalsIgnoreCase("root") ? Logger.ROOT_LOGGER_NAME : e.getKey();
            context.getLogger(name).setLevel(Level.toLevel(e.getValue()));
        }
    }

    private static void useJson(LoggerContext context) {
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
        json.setContext(context);
        json.setName("JSON");
        json.setEncoder(encoder);
        json.start();
        root.detachAndStopAllAppenders();
        root.addAppender(json);
    }
}
