package io.pgbailiff.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input gets a protocol error and a closed connection for that client only; a backend that
 * cannot be reached gets the client a clear FATAL error promptly, never a hang.
 */
class BadInputAndFailuresIT extends ProxyTestBase {
    private static RawPgClient.Message fatalAfter(byte[] bytes) throws IOException {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.setTimeout(5000);
            raw.send(bytes);
            RawPgClient.Message m = raw.read();
            assertEquals('E', m.type(), "an ErrorResponse: " + m);
            assertEquals("FATAL", m.fields().get('V'));
            raw.awaitClosedByServer();
            return m;
        }
    }

    @Test
    void badInputClosesOnlyThatConnection() throws Exception {
        try (Bystander bystander = Bystander.open(proxy, "alice", "bystander", 42)) {

            assertEquals("08P01", fatalAfter(new byte[]{0, 0, 0, 3, 1, 2, 3, 4}).fields().get('C'), "startup length below 8");
            assertEquals("08P01", fatalAfter(ByteBuffer.allocate(8).putInt(20_000).putInt(196608).array()).fields().get('C'),
                    "startup packet over 10,000 bytes");
            assertEquals("0A000", fatalAfter(RawPgClient.startupPacket(0x00020000, Map.of("user", "alice"))).fields().get('C'),
                    "protocol 2.0");
            byte[] noTerminator = RawPgClient.startupPacket(196608, Map.of("user", "alice"));
            noTerminator[noTerminator.length - 1] = 'x';
            assertEquals("08P01", fatalAfter(noTerminator).fields().get('C'), "missing terminator");
            assertEquals("28000", fatalAfter(RawPgClient.startupPacket(196608, Map.of("database", "postgres"))).fields().get('C'),
                    "no user name");

            try (RawPgClient raw = new RawPgClient(proxy.port())) {
                raw.logIn(Map.of("user", "alice", "database", "postgres"));
                raw.send(new byte[]{'Q', 0, 0, 0, 2});
                RawPgClient.Message m = raw.read();
                assertEquals("08P01", m.fields().get('C'), "typed message length below 4: " + m);
                raw.awaitClosedByServer();
            }
            try (RawPgClient raw = new RawPgClient(proxy.port())) {
                raw.logIn(Map.of("user", "alice", "database", "postgres"));
                raw.send(new byte[]{'Q', (byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
                assertEquals("08P01", raw.read().fields().get('C'), "typed message length above the maximum");
                raw.awaitClosedByServer();
            }

            try (RawPgClient raw = new RawPgClient(proxy.port())) {
                raw.logIn(Map.of("user", "alice", "database", "postgres"));
                raw.send(RawPgClient.message('E', new byte[]{0, 0}));
                RawPgClient.Message m = raw.read();
                assertEquals("08P01", m.fields().get('C'), "a truncated Execute: " + m);
                assertEquals("invalid message format", m.fields().get('M'));
                raw.awaitClosedByServer();
            }

            bystander.assertUntouched();
        }
        proxy.awaitSessions(List::isEmpty, Duration.ofSeconds(5), "no session left behind by bad input");
    }

    @Test
    void encryptionRequestsAreDeclinedAndPipelinedBytesRefused() throws Exception {
        try (RawPgClient raw = new RawPgClient(proxy.port())) {
            raw.send(RawPgClient.sslRequest());
            assertEquals('N', raw.readByte(), "SSLRequest answered N");
            raw.send(ByteBuffer.allocate(8).putInt(8).putInt(80877104).array());
            assertEquals('N', raw.readByte(), "GSSENCRequest answered N");
            raw.logIn(Map.of("user", "alice", "database", "postgres"));
        }
        byte[] ssl = RawPgClient.sslRequest();
        byte[] startup = RawPgClient.startupPacket(196608, Map.of("user", "alice", "database", "postgres"));
        byte[] pipelined = ByteBuffer.allocate(ssl.length + startup.length).put(ssl).put(startup).array();
        RawPgClient.Message m = fatalAfter(pipelined);
        assertEquals("08P01", m.fields().get('C'));
        assertTrue(m.fields().get('M').contains("unencrypted data after SSL request"), m.toString());
        assertTrue(proxy.sessions(s -> "alice".equals(s.userName())).isEmpty(), "the pipelined startup was not processed");
    }

    @Test
    void backendTerminatedMidStatementEndsTheSessionWithItsFatalError() throws Exception {
        try (Connection victim = proxy.connect("alice", null, "ApplicationName", "terminated");
             Statement s = victim.createStatement();
             Connection admin = TestPostgres.get().superuser()) {
            CompletableFuture<SQLException> result = Async.execute(s, "SELECT pg_sleep(30)");
            proxy.awaitSessions(l -> l.stream().anyMatch(x -> "terminated".equals(x.applicationName())
                    && x.activeQuery() != null), Duration.ofSeconds(5), "statement running");
            int pid = proxy.sessions(x -> "terminated".equals(x.applicationName())).get(0).backendPid();
            try (Statement a = admin.createStatement()) {
                a.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            SQLException e = result.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("57P01", e == null ? null : e.getSQLState());
            proxy.awaitSessions(l -> l.stream().noneMatch(x -> "terminated".equals(x.applicationName())),
                    Duration.ofSeconds(5), "session removed when its backend went away");
            assertTrue(victim.isClosed() || !victim.isValid(1));
        }
    }

    @Test
    void refusedBackendGivesFatal08006AtOnce() throws Exception {
        int closedPort = Ports.free();
        try (TestProxy broken = TestProxy.start("--backend", "127.0.0.1:" + closedPort)) {
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> broken.connect("alice").close());
            assertEquals("08006", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("could not connect to server"), e.getMessage());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000);
            assertTrue(broken.sessions().isEmpty());
        }
    }

    /** The backend's host name is looked up for each connection, and a name that does not resolve is named in the error. */
    @Test
    void backendHostThatDoesNotResolveGivesFatal08006NamingIt() throws Exception {
        try (TestProxy broken = TestProxy.start("--backend", "no-such-host.invalid:5432")) {
            SQLException e = assertThrows(SQLException.class, () -> broken.connect("alice").close());
            assertEquals("08006", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("could not connect to server no-such-host.invalid"), e.getMessage());
            assertTrue(broken.sessions().isEmpty());
        }
    }

    /**
     * A backend whose listen queue is full drops connection attempts, like an unreachable host:
     * the client is told within the connect timeout.
     */
    @Test
    void unreachableBackendGivesFatal08006WithinTheConnectTimeout() throws Exception {
        List<Socket> filling = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress("127.0.0.1", 0), 1);
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket();
                try {
                    s.connect(silent.getLocalSocketAddress(), 200);
                    filling.add(s);
                } catch (IOException full) {
                    s.close();
                    break;
                }
            }
            try (TestProxy broken = TestProxy.start("--backend", "127.0.0.1:" + silent.getLocalPort(),
                    "--connect-timeout", "1s")) {
                long start = System.nanoTime();
                SQLException e = assertThrows(SQLException.class,
                        () -> broken.connect("alice", null, "connectTimeout", "10").close());
                long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
                assertEquals("08006", e.getSQLState(), e.getMessage());
                assertTrue(millis >= 900 && millis < 4000, "answered after " + millis + " ms");
            }
        } finally {
            for (Socket s : filling) {
                s.close();
            }
        }
    }
}
