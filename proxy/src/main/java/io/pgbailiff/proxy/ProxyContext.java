package io.pgbailiff.proxy;

/**
 * What every connection of one running proxy shares.
 *
 * @param sessionControl where session-control statements are compiled and run, off the event
 *                       loops: their cost grows with their text and with the number of sessions
 */
record ProxyContext(Config config, Transport transport, SessionRegistry registry, CancelKeys cancelKeys,
                    BackendCanceller canceller, SessionIdGenerator ids, ClientConnections connections,
                    ProxyMetrics metrics, TlsContexts tls, java.util.concurrent.ExecutorService sessionControl) {
}
