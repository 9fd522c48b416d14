package io.pgbailiff.proxy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;

/**
 * A throwaway PostgreSQL (from Maven, no installation needed) for trying pgbailiff out.
 * Its superuser is {@code postgres}, with trust authentication; its data is deleted on exit.
 */
final class EmbeddedBackend implements AutoCloseable {
    private final EmbeddedPostgres postgres;

    private EmbeddedBackend(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    static EmbeddedBackend start() throws IOException {
        return new EmbeddedBackend(EmbeddedPostgres.builder()
                .setServerConfig("listen_addresses", "127.0.0.1")
                .start());
    }

    Config.HostPort address() {
        return new Config.HostPort("127.0.0.1", postgres.getPort());
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
