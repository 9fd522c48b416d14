package io.pgbailiff.proxy;

import io.netty.util.ResourceLeakDetector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.Arrays;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code java -jar pgbailiff.jar [options]}: see {@link ConfigLoader#help()}. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        // until the reload handler is in place, a SIGHUP must not end the process
        Signal.handle(new Signal("HUP"), signal -> { });
        List<String> argList = Arrays.asList(args);
        if (argList.contains("--help") || argList.contains("-h")) {
            System.out.print(ConfigLoader.help());
            return;
        }
        Config config;
        try {
            config = ConfigLoader.load(argList, System.getenv());
        } catch (ConfigLoader.InvalidSettingException e) {
            System.err.println("pgbailiff: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logging.configure(config);
        if (System.getProperty("io.netty.leakDetection.level") == null && System.getProperty("io.netty.leakDetectionLevel") == null) {
            // Every buffer is released by design (the tests run the detector at paranoid); in
            // production its per-message bookkeeping costs more than the sampling ever finds.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        EmbeddedBackend embedded = null;
        if (config.embeddedBackend()) {
            log.info("starting an embedded PostgreSQL (throwaway data, superuser 'postgres', trust authentication)");
            embedded = EmbeddedBackend.start();
            config = config.withBackend(embedded.address());
        }
        ProxyServer proxy;
        try {
            proxy = ProxyServer.start(config);
        } catch (ConfigLoader.InvalidSettingException e) {
            System.err.println("pgbailiff: " + e.getMessage());
            closeQuietly(embedded);
            System.exit(2);
            return;
        } catch (Exception e) {
            log.error("could not start: {}", e.toString());
            closeQuietly(embedded);
            System.exit(1);
            return;
        }
        if (embedded != null) {
            log.info("try it: psql -h {} -p {} -U postgres", config.listen().host(), proxy.address().getPort());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBackend toClose = embedded;
        Duration drain = config.drainTimeout();
        Runnable shutdown = () -> {
            try {
                proxy.shutdown(drain);
                closeQuietly(toClose);
                log.info("stopped");
            } catch (RuntimeException | Error e) {
                log.error("shutdown did not complete cleanly", e);
            } finally {
                stopped.countDown();
            }
        };
        AtomicBoolean shuttingDown = new AtomicBoolean();
        onSignal("TERM", shuttingDown, shutdown);
        onSignal("INT", shuttingDown, shutdown);
        Signal.handle(new Signal("HUP"), signal -> {
            log.info("received SIGHUP: reloading");
            proxy.reload();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (shuttingDown.compareAndSet(false, true)) {
                proxy.close();
                closeQuietly(toClose);
            }
        }, "pgbailiff-exit"));
        stopped.await();
        System.exit(0);
    }

    /**
     * SIGTERM and SIGINT start a graceful shutdown and end with exit code 0; a JVM shutdown hook
     * alone would exit with 143 before the sessions had drained.
     */
    private static void onSignal(String name, AtomicBoolean shuttingDown, Runnable shutdown) {
        Signal.handle(new Signal(name), signal -> {
            if (shuttingDown.compareAndSet(false, true)) {
                log.info("received SIG{}: shutting down", name);
                Thread t = new Thread(shutdown, "pgbailiff-shutdown");
                t.start();
            }
        });
    }

    private static void closeQuietly(EmbeddedBackend embedded) {
        if (embedded == null) {
            return;
        }
        try {
            embedded.close();
        } catch (Exception e) {
            log.warn("could not stop the embedded PostgreSQL: {}", e.toString());
        }
    }
}
