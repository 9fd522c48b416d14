package io.pgbailiff.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The TLS settings made ready once at start-up, so that a bad certificate or key stops
 * pgbailiff before it accepts anyone rather than failing each client.
 *
 * <p>Toward the backend the modes mean what libpq's sslmode means: {@code prefer} and
 * {@code require} encrypt without checking the certificate, {@code verify-ca} checks it against
 * the CA, {@code verify-full} also checks that it names the backend host. As libpq ignores
 * sslmode on a Unix-domain socket, where PostgreSQL offers no TLS, a backend reached through its
 * socket directory is in mode {@code disable} whatever the setting.
 */
final class TlsContexts {
    private final SslContext clients;
    private final SslContext backend;
    private final Config.BackendTls backendMode;

    private TlsContexts(SslContext clients, SslContext backend, Config.BackendTls backendMode) {
        this.clients = clients;
        this.backend = backend;
        this.backendMode = backendMode;
    }

    static TlsContexts from(Config config) {
        SslContext clients = null;
        if (config.tlsEnabled()) {
            try {
                clients = SslContextBuilder.forServer(config.tlsCert().toFile(), config.tlsKey().toFile()).build();
            } catch (SSLException | IllegalArgumentException e) {
                throw new ConfigLoader.InvalidSettingException("--tls-cert/--tls-key: cannot use " + config.tlsCert()
                        + " and " + config.tlsKey() + " (PEM certificate chain and PKCS#8 private key expected): "
                        + Errors.rootMessage(e));
            }
        }
        Config.BackendTls backendMode = config.backend().isSocketDirectory() ? Config.BackendTls.DISABLE : config.backendTls();
        SslContext backend = null;
        if (backendMode != Config.BackendTls.DISABLE) {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (!backendMode.verifiesCertificate()) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (config.backendTlsCa() != null) {
                b.trustManager(config.backendTlsCa().toFile());
            }
            try {
                backend = b.build();
            } catch (SSLException | IllegalArgumentException e) {
                throw new ConfigLoader.InvalidSettingException("--backend-tls-ca: cannot use " + config.backendTlsCa()
                        + ": " + Errors.rootMessage(e));
            }
        }
        return new TlsContexts(clients, backend, backendMode);
    }

    boolean offeredToClients() {
        return clients != null;
    }

    SSLEngine clientEngine(ByteBufAllocator alloc) {
        return clients.newEngine(alloc);
    }

    Config.BackendTls backendMode() {
        return backendMode;
    }

    SslHandler backendHandler(ByteBufAllocator alloc, String host, int port) {
        SslHandler handler = backend.newHandler(alloc, host, port);
        if (backendMode == Config.BackendTls.VERIFY_FULL) {
            SSLEngine engine = handler.engine();
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(params);
        }
        return handler;
    }
}
