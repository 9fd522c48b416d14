package io.pgbailiff.proxy;

/**
 * What every connection of one running proxy shares.
 *
 * @param sqlCompiler    where session-control selects are compiled, off the event loops:
 *                       JSqlParser's time grows with the text, tens of microseconds a token
 * @param sessionControl where session-control statements run, off the event loops: their cost
 *                       grows with the number of sessions; kept apart from compiling, so that
 *                       long selects being compiled never hold up a SHOW SESSIONS or a CANCEL
 */
record ProxyContext(Config config, Transport transport, SessionRegistry registry, CancelKeys cancelKeys,
                    BackendCanceller canceller, SessionIdGenerator ids, ClientConnections connections,
                    ProxyMetrics metrics, TlsContexts tls, java.util.concurrent.ExecutorService sqlCompiler,
                    java.util.concurrent.ExecutorService sessionControl) {
}
