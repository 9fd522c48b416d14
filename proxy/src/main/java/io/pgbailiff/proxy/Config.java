package io.pgbailiff.proxy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Every setting of pgbailiff, immutable. Built by {@link ConfigLoader} from defaults, a config
 * file, the environment ({@code PGBAILIFF_*}) and command-line flags, in rising priority.
 *
 * @param listen                   address clients connect to
 * @param backend                  the PostgreSQL server every session is forwarded to
 * @param nodeId                   this node's id, the low 32 bits of every session id it assigns
 * @param connectTimeout           how long opening a backend connection may take before the client is told it failed
 * @param maxMessageSize           the largest typed message accepted from a client, in bytes
 * @param embeddedBackend          start a throwaway PostgreSQL and use it as the backend
 * @param adminRoles               members of these roles see and cancel every session but a superuser's
 * @param http                     where {@code /metrics}, {@code /health} and {@code /ready} are served; null: nowhere
 * @param tlsCert                  PEM certificate chain offered to clients that ask for TLS; null: TLS is refused
 * @param tlsKey                   PEM private key of {@code tlsCert}
 * @param tlsRequire               refuse clients that do not use TLS
 * @param backendTls               whether and how strictly TLS is used toward the backend, as libpq's sslmode
 * @param backendTlsCa             PEM CA certificates the backend's certificate is checked against; null: the JVM's
 * @param maxClientConnections     client connections open at once; more are refused with 53300
 * @param startupTimeout           how long a client may take from connecting to being ready for queries
 * @param idleInTransactionTimeout how long a session may sit idle inside a transaction; null: no limit
 * @param idleSessionTimeout       how long a session may sit idle outside a transaction; null: no limit
 * @param drainTimeout             on shutdown, how long running statements and transactions get to finish
 * @param logFormat                console log lines as text or JSON
 * @param logLevels                level per logger name ({@code root} for the root logger)
 * @param threads                  event-loop threads; each client and its backend connection share one
 * @param unixSocketDir            where clients may also connect through a Unix-domain socket,
 *                                 {@code .s.PGSQL.<listen port>}; null: TCP only
 */
public record Config(
        HostPort listen,
        HostPort backend,
        int nodeId,
        Duration connectTimeout,
        int maxMessageSize,
        boolean embeddedBackend,
        List<String> adminRoles,
        HostPort http,
        Path tlsCert,
        Path tlsKey,
        boolean tlsRequire,
        BackendTls backendTls,
        Path backendTlsCa,
        int maxClientConnections,
        Duration startupTimeout,
        Duration idleInTransactionTimeout,
        Duration idleSessionTimeout,
        Duration drainTimeout,
        LogFormat logFormat,
        Map<String, String> logLevels,
        int threads,
        Path unixSocketDir) {

    public static final int DEFAULT_MAX_MESSAGE_SIZE = 0x3fffffff;

    /** libpq's sslmode values, applied to pgbailiff's own connections to the backend. */
    public enum BackendTls {
        DISABLE, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

        public String setting() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        boolean verifiesCertificate() {
            return this == VERIFY_CA || this == VERIFY_FULL;
        }
    }

    public enum LogFormat { TEXT, JSON }

    public Config {
        adminRoles = List.copyOf(adminRoles);
        logLevels = Map.copyOf(logLevels);
    }

    public static Config defaults() {
        return new Builder().build();
    }

    /** The name PostgreSQL gives its Unix-domain socket for a port, in whichever directory. */
    static String socketFileName(int port) {
        return ".s.PGSQL." + port;
    }

    /** The socket clients may connect to when pgbailiff listens on TCP {@code port}; null when there is none. */
    public Path unixSocket(int port) {
        return unixSocketDir == null ? null : unixSocketDir.resolve(socketFileName(port));
    }

    public boolean tlsEnabled() {
        return tlsCert != null;
    }

    public Config withBackend(HostPort backend) {
        Builder b = toBuilder();
        b.backend = backend;
        return b.build();
    }

    Builder toBuilder() {
        Builder b = new Builder();
        b.listen = listen;
        b.backend = backend;
        b.nodeId = nodeId;
        b.connectTimeout = connectTimeout;
        b.maxMessageSize = maxMessageSize;
        b.embeddedBackend = embeddedBackend;
        b.adminRoles = adminRoles;
        b.http = http;
        b.tlsCert = tlsCert;
        b.tlsKey = tlsKey;
        b.tlsRequire = tlsRequire;
        b.backendTls = backendTls;
        b.backendTlsCa = backendTlsCa;
        b.maxClientConnections = maxClientConnections;
        b.startupTimeout = startupTimeout;
        b.idleInTransactionTimeout = idleInTransactionTimeout;
        b.idleSessionTimeout = idleSessionTimeout;
        b.drainTimeout = drainTimeout;
        b.logFormat = logFormat;
        b.logLevels = logLevels;
        b.threads = threads;
        b.unixSocketDir = unixSocketDir;
        return b;
    }

    /** The settings while they are being read, starting from the defaults. */
    static final class Builder {
        HostPort listen = new HostPort("127.0.0.1", 6432);
        HostPort backend = new HostPort("127.0.0.1", 5432);
        int nodeId = 1;
        Duration connectTimeout = Duration.ofSeconds(5);
        int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
        boolean embeddedBackend;
        List<String> adminRoles = List.of();
        HostPort http = new HostPort("127.0.0.1", 9187);
        Path tlsCert;
        Path tlsKey;
        boolean tlsRequire;
        BackendTls backendTls = BackendTls.PREFER;
        Path backendTlsCa;
        int maxClientConnections = 10_000;
        Duration startupTimeout = Duration.ofSeconds(60);
        Duration idleInTransactionTimeout;
        Duration idleSessionTimeout;
        Duration drainTimeout = Duration.ofSeconds(30);
        LogFormat logFormat = LogFormat.TEXT;
        Map<String, String> logLevels = Map.of();
        /**
         * Half the CPUs: pgbailiff usually shares its machine with PostgreSQL, and every thread
         * beyond what the load needs costs context switches on each relayed message.
         */
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        Path unixSocketDir;

        Config build() {
            return new Config(listen, backend, nodeId, connectTimeout, maxMessageSize, embeddedBackend, adminRoles,
                    http, tlsCert, tlsKey, tlsRequire, backendTls, backendTlsCa, maxClientConnections, startupTimeout,
                    idleInTransactionTimeout, idleSessionTimeout, drainTimeout, logFormat, logLevels, threads, unixSocketDir);
        }
    }

    /**
     * A host and port as written in settings: {@code host:port}, {@code [v6]:port}, or {@code :port}.
     * A host that starts with a slash is, as in libpq, the directory of a Unix-domain socket; there
     * the port only names the socket file and may be left out ({@code /var/run/postgresql}).
     */
    public record HostPort(String host, int port) {
        private static final int POSTGRES_PORT = 5432;

        public static HostPort parse(String text, String defaultHost) {
            String s = text.trim();
            int colon = s.lastIndexOf(':');
            if (colon < 0 && s.startsWith("/")) {
                return new HostPort(s, POSTGRES_PORT);
            }
            if (colon < 0) {
                throw new IllegalArgumentException("expected host:port, got '" + text + "'");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = defaultHost;
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid port in '" + text + "'");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range in '" + text + "'");
            }
            return new HostPort(host, port);
        }

        /** An address as the logs and SHOW SESSIONS show it: {@code ip:port}, {@code [v6]:port}. */
        public static HostPort of(InetSocketAddress address) {
            return new HostPort(address.getAddress().getHostAddress(), address.getPort());
        }

        public boolean isSocketDirectory() {
            return host.startsWith("/");
        }

        /** The socket file PostgreSQL listens on in {@link #isSocketDirectory() the directory}. */
        public String socketPath() {
            return (host.endsWith("/") ? host : host + "/") + socketFileName(port);
        }

        /** How messages name the server: {@code host:port}, or the socket file's path. */
        public String describe() {
            return isSocketDirectory() ? socketPath() : toString();
        }

        @Override
        public String toString() {
            return (host.contains(":") && !isSocketDirectory() ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
