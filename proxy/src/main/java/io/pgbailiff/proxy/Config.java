package io.pgbailiff.proxy;

import java.time.Duration;
import java.util.List;

/**
 * Every setting of pgbailiff, immutable. Built by {@link ConfigLoader} from defaults, the
 * environment ({@code PGBAILIFF_*}) and command-line flags, in rising priority.
 *
 * @param listen           address clients connect to
 * @param backend          the PostgreSQL server every session is forwarded to
 * @param nodeId           this node's id, the low 32 bits of every session id it assigns
 * @param connectTimeout   how long opening a backend connection may take before the client is told it failed
 * @param maxMessageSize   the largest typed message accepted from a client, in bytes
 * @param embeddedBackend  start a throwaway PostgreSQL and use it as the backend
 * @param adminRoles       members of these roles see and cancel every session but a superuser's
 */
public record Config(
        HostPort listen,
        HostPort backend,
        int nodeId,
        Duration connectTimeout,
        int maxMessageSize,
        boolean embeddedBackend,
        List<String> adminRoles) {

    public static final int DEFAULT_MAX_MESSAGE_SIZE = 0x3fffffff;

    public Config {
        adminRoles = List.copyOf(adminRoles);
    }

    public static Config defaults() {
        return new Builder().build();
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

        Config build() {
            return new Config(listen, backend, nodeId, connectTimeout, maxMessageSize, embeddedBackend, adminRoles);
        }
    }

    /** A host and port as written in settings: {@code host:port}, {@code [v6]:port}, or {@code :port}. */
    public record HostPort(String host, int port) {
        public static HostPort parse(String text, String defaultHost) {
            String s = text.trim();
            int colon = s.lastIndexOf(':');
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

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
