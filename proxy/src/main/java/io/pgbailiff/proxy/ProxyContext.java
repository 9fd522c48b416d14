package io.pgbailiff.proxy;

/** What every connection of one running proxy shares. */
record ProxyContext(Config config, Transport transport, SessionRegistry registry, CancelKeys cancelKeys,
                    BackendCanceller canceller, SessionIdGenerator ids, ClientConnections connections,
                    ProxyMetrics metrics, TlsContexts tls) {
}
