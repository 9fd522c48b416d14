package io.pgbailiff.protocol;

import java.util.Arrays;
import java.util.Map;

/**
 * The packets a client may send before the typed message phase: they carry no type byte, only
 * a length and a 32-bit code (a protocol version or a special request code).
 */
public sealed interface StartupPacket {

    /** Protocol 3.0: every client since PostgreSQL 7.4. */
    int PROTOCOL_3_0 = 196608;
    /** Protocol 3.2 (PostgreSQL 18): variable-length cancel keys. */
    int PROTOCOL_3_2 = 196610;
    int CANCEL_REQUEST_CODE = 80877102;
    int SSL_REQUEST_CODE = 80877103;
    int GSSENC_REQUEST_CODE = 80877104;
    /** The longest startup packet accepted, as PostgreSQL's {@code MAX_STARTUP_PACKET_LENGTH}. */
    int MAX_STARTUP_PACKET_LENGTH = 10_000;
    /** Protocol 3.2 allows cancel keys of up to 256 bytes. */
    int MAX_CANCEL_KEY_LENGTH = 256;

    static int majorVersion(int protocolVersion) {
        return protocolVersion >>> 16;
    }

    static int minorVersion(int protocolVersion) {
        return protocolVersion & 0xffff;
    }

    record SslRequest() implements StartupPacket {
    }

    record GssEncRequest() implements StartupPacket {
    }

    /**
     * A request to cancel the statement running on the connection identified by
     * {@code processId} and {@code secretKey} (4 bytes in protocol 3.0, up to 256 in 3.2).
     */
    record CancelRequest(int processId, byte[] secretKey) implements StartupPacket {
        @Override
        public boolean equals(Object o) {
            return o instanceof CancelRequest c && c.processId == processId && Arrays.equals(c.secretKey, secretKey);
        }

        @Override
        public int hashCode() {
            return 31 * processId + Arrays.hashCode(secretKey);
        }

        @Override
        public String toString() {
            return "CancelRequest[processId=" + processId + ", keyLength=" + secretKey.length + "]";
        }
    }

    /**
     * The StartupMessage: protocol version and the parameters ({@code user}, {@code database},
     * {@code application_name}, {@code options}, {@code _pq_.*} protocol options, ...), in the order sent.
     */
    record StartupMessage(int protocolVersion, Map<String, String> parameters) implements StartupPacket {
        public StartupMessage {
            parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
        }

        public String user() {
            return parameters.get("user");
        }

        /** The database, which PostgreSQL defaults to the user name. */
        public String database() {
            String db = parameters.get("database");
            return db == null || db.isEmpty() ? user() : db;
        }

        public String applicationName() {
            return parameters.getOrDefault("application_name", "");
        }
    }
}
