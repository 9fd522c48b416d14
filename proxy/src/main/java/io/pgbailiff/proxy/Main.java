package io.pgbailiff.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar pgbailiff.jar [options]}: see {@link ConfigLoader#help()}. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws Exception {
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
        EmbeddedBackend embedded = null;
        if (config.embeddedBackend()) {
            log.info("starting an embedded PostgreSQL (throwaway data, superuser 'postgres', trust authentication)");
            embedded = EmbeddedBackend.start();
            config = config.withBackend(embedded.address());
        }
        ProxyServer proxy = ProxyServer.start(config);
        if (embedded != null) {
            log.info("try it: psql -h {} -p {} -U postgres", config.listen().host(), proxy.address().getPort());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBackend toClose = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutting down");
            proxy.close();
            if (toClose != null) {
                try {
                    toClose.close();
                } catch (Exception e) {
                    log.warn("could not stop the embedded PostgreSQL: {}", e.toString());
                }
            }
            stopped.countDown();
        }, "pgbailiff-shutdown"));
        stopped.await();
    }
}
