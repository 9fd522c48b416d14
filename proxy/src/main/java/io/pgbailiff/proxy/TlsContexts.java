package io.pgbailiff.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The TLS settings made ready once at start-up, so that a bad certificate or key stops
 * pgbailiff before it accepts anyone rather than failing each client. The certificate and key
 * offered to clients are read again on {@link #reloadClientCertificate} (SIGHUP), as PostgreSQL
 * re-reads its own on a reload, so that a renewed certificate needs no restart.
 *
 * <p>Toward the backend the modes mean what libpq's sslmode means: {@code prefer} and
 * {@code require} encrypt without checking the certificate, {@code verify-ca} checks it against
 * the CA, {@code verify-full} also checks that it names the backend host. As libpq ignores
 * sslmode on a Unix-domain socket, where PostgreSQL offers no TLS, a backend reached through its
 * socket directory is in mode {@code disable} whatever the setting.
 */
final class TlsContexts {
    private final Config config;
    private volatile SslContext clients;
    private final SslContext backend;
    private final Config.BackendTls backendMode;

    private TlsContexts(Config config, SslContext clients, SslContext backend, Config.BackendTls backendMode) {
        this.config = config;
        this.clients = clients;
        this.backend = backend;
        this.backendMode = backendMode;
    }

    static TlsContexts from(Config config) {
        SslContext clients = config.tlsEnabled() ? serverContext(config) : null;
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
        return new TlsContexts(config, clients, backend, backendMode);
    }

    /**
     * Reads the certificate and key offered to clients again; new TLS connections get them, those
     * already made keep theirs. On failure the ones in use stay.
     *
     * @return false if pgbailiff offers no TLS to clients
     * @throws ConfigLoader.InvalidSettingException if the files cannot be used
     */
    boolean reloadClientCertificate() {
        if (clients == null) {
            return false;
        }
        clients = serverContext(config);
        return true;
    }

    private static SslContext serverContext(Config config) {
        SslContext context;
        try {
            context = SslContextBuilder.forServer(config.tlsCert().toFile(), config.tlsKey().toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigLoader.InvalidSettingException("--tls-cert/--tls-key: cannot use " + config.tlsCert()
                    + " and " + config.tlsKey() + " (PEM certificate chain and PKCS#8 private key expected): "
                    + Errors.rootMessage(e));
        }
        try {
            handshakeWithItself(context);
        } catch (Exception e) {
            throw new ConfigLoader.InvalidSettingException("--tls-cert/--tls-key: a TLS handshake with " + config.tlsCert()
                    + " and " + config.tlsKey() + " fails (" + Errors.rootMessage(e)
                    + "); is the key the certificate's own private key?");
        }
        return context;
    }

    /**
     * Runs a TLS handshake between {@code server} and a client that trusts any certificate, in
     * memory. The JDK accepts a key that does not belong to the certificate, and every client's
     * handshake would then fail; this fails instead, whatever the key's algorithm, when the
     * server's signature does not verify with the certificate's public key.
     */
    private static void handshakeWithItself(SslContext server) throws SSLException {
        SslContext client = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        SslHandler serverSide = server.newHandler(ByteBufAllocator.DEFAULT);
        SslHandler clientSide = client.newHandler(ByteBufAllocator.DEFAULT);
        EmbeddedChannel s = new EmbeddedChannel(serverSide);
        EmbeddedChannel c = new EmbeddedChannel(clientSide);
        try {
            for (int round = 0; round < 20 && !(serverSide.handshakeFuture().isDone() && clientSide.handshakeFuture().isDone());
                 round++) {
                pass(c, s);
                pass(s, c);
            }
            Throwable failed = clientSide.handshakeFuture().cause() != null ? clientSide.handshakeFuture().cause()
                    : serverSide.handshakeFuture().cause();
            if (failed != null) {
                throw failed instanceof SSLException e ? e : new SSLException(failed);
            }
            if (!clientSide.handshakeFuture().isSuccess()) {
                throw new SSLException("the handshake did not complete");
            }
        } finally {
            try {
                s.finishAndReleaseAll();
            } finally {
                c.finishAndReleaseAll();
            }
        }
    }

    /** Hands what {@code from} wrote to {@code to} as what it read. */
    private static void pass(EmbeddedChannel from, EmbeddedChannel to) {
        for (Object out = from.readOutbound(); out != null; out = from.readOutbound()) {
            if (to.isOpen()) {
                to.writeInbound(out);
            } else {
                io.netty.util.ReferenceCountUtil.release(out);
            }
        }
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
