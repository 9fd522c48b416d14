package io.pgbailiff.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A generator of malformed PostgreSQL frontend traffic, and a driver that sends it to a server
 * over many connections, one case per connection.
 *
 * <p>Every case is derived from the run's seed and its own index alone, so any case can be
 * replayed on its own ({@link #generate}). Kinds of case: random bytes before or after a valid
 * startup, valid messages with a corrupted length, truncated messages, unknown message types,
 * huge declared lengths, malformed startup packets (missing terminators, bad protocol versions,
 * encryption and cancel requests of the wrong size, bytes pipelined behind an SSLRequest),
 * messages out of phase (Bind before Parse, CopyData outside COPY, a second StartupMessage,
 * a password after authentication, ...), and valid sessions with random mutations. Each is sent
 * whole or in small fragments and ended by a close, a reset, a half-close, or by reading the
 * answers until the server goes quiet.
 *
 * <p>What the server sends back must always be a well-formed message stream: the answer bytes to
 * encryption requests, then complete messages of known types, a FATAL error only as the last one.
 * A case whose answer breaks that is a violation, reported with its index.
 *
 * <p>It needs nothing but the JDK, so it also runs on its own, for soak runs:
 * <pre>
 * java integration-tests/src/test/java/io/pgbailiff/it/ProtocolFuzzer.java \
 *     --port 6432 --user fuzz --database fuzz --seed 42 --cases 1000000 --duration 600 --concurrency 16
 * </pre>
 */
public final class ProtocolFuzzer {

    /** Where to connect and as whom; the startup packets of the cases use these. */
    public record Target(String host, int port, String user, String database, String applicationName) {
    }

    public enum Kind {
        RANDOM_BYTES, RANDOM_AFTER_STARTUP, CORRUPTED_LENGTH, TRUNCATED, UNKNOWN_TYPE, HUGE_LENGTH,
        BAD_STARTUP, OUT_OF_PHASE, MUTATED_SESSION
    }

    /** How the client ends its connection after sending. */
    public enum Ending { CLOSE, RESET, HALF_CLOSE, READ_UNTIL_QUIET }

    /**
     * One case: the bytes, how they are cut into writes, and how the connection ends.
     * {@code encryptionRequests} is how many single-byte answers precede the message stream.
     */
    public record Case(long index, Kind kind, byte[] bytes, int[] chunks, Ending ending, int encryptionRequests) {
    }

    /** What came back for one case. */
    public record Outcome(long received, boolean closedByServer, String firstErrorCode, String violation) {
    }

    /** Totals over a run. */
    public static final class Stats {
        public final LongAdder cases = new LongAdder();
        public final LongAdder bytesSent = new LongAdder();
        public final LongAdder bytesReceived = new LongAdder();
        public final LongAdder closedByServer = new LongAdder();
        public final LongAdder connectFailures = new LongAdder();
        public final Map<Kind, LongAdder> byKind = new EnumMap<>(Kind.class);
        public final Map<String, LongAdder> errorCodes = new ConcurrentHashMap<>();
        /** Case index to what was wrong with the answer. */
        public final Map<Long, String> violations = new ConcurrentHashMap<>();
        public volatile long elapsedMillis;

        Stats() {
            for (Kind k : Kind.values()) {
                byKind.put(k, new LongAdder());
            }
        }

        @Override
        public String toString() {
            Map<String, Long> codes = new TreeMap<>();
            errorCodes.forEach((k, v) -> codes.put(k, v.sum()));
            Map<Kind, Long> kinds = new EnumMap<>(Kind.class);
            byKind.forEach((k, v) -> kinds.put(k, v.sum()));
            return cases.sum() + " cases in " + elapsedMillis + " ms (" + (cases.sum() * 1000 / Math.max(1, elapsedMillis))
                    + "/s): " + bytesSent.sum() + " bytes sent, " + bytesReceived.sum() + " received, "
                    + closedByServer.sum() + " closed by the server, " + connectFailures.sum() + " connect failures, "
                    + violations.size() + " violations; by kind " + kinds + "; first error codes " + codes;
        }
    }

    private static final int PROTOCOL_3_0 = 196608;
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;
    private static final int CANCEL_REQUEST = 80877102;
    private static final String BACKEND_TYPES = "RKSZENCDTtnsI123AGHWdcVvf";
    private static final int MAX_ANSWER = 8 << 20;
    /** An answer that has begun is complete when nothing more comes for this long. */
    private static final int QUIET_MILLIS = 200;
    /** A server that has sent nothing at all is given this long to start answering. */
    private static final int FIRST_ANSWER_MILLIS = 1000;

    private static final String[] SQL = {
        "SELECT 1", "SELECT $1::text", "SELECT repeat('x', 20000)", "SELECT generate_series(1, 200)", "BEGIN", "COMMIT",
        "ROLLBACK", "SELECT 1/0", "SHOW SESSIONS", "SELECT * FROM [SHOW QUERIES]", "SELECT md_current_client_connection_id()",
        "FROM md_active_server_connections()", "CANCEL QUERY IF EXISTS '00000000000000000000000000000001'",
        "CANCEL SESSION $1", "CANCEL SESSIONS (SELECT session_id FROM [SHOW SESSIONS] WHERE status = 'IDLE' LIMIT 1)",
        "SELECT md_interrupt_server_connection(client_connection_id) FROM md_active_server_connections()",
        "SELECT md_interrupt_server_connection($1)", "COPY (SELECT 1) TO STDOUT", "CREATE TEMP TABLE f (x int)",
        "COPY f FROM STDIN", "LISTEN fuzz", "NOTIFY fuzz", "SET application_name = 'fuzz-renamed'", "SELECT pg_sleep(0.01)",
        "SHOW SESSIONS; SELECT 1", "", ";", "/* */ SHOW QUERIES;", "SELECT * FROM [SHOW SESSIONS] WHERE user_name LIKE 'a%'",
        "WITH x AS (SHOW SESSIONS) SELECT count(*) FROM x", "SELECT $1, $2", "DISCARD ALL", "PREPARE p AS SELECT 1",
    };

    private ProtocolFuzzer() {
    }

    // ---- generation ----

    /** The case of that index in the run with that seed. */
    public static Case generate(long seed, long index, Target target) {
        SplittableRandom r = new SplittableRandom(mix(seed, index));
        Kind kind = Kind.values()[r.nextInt(Kind.values().length)];
        Gen g = new Gen(r, target);
        byte[] bytes = switch (kind) {
            case RANDOM_BYTES -> g.randomBytes(r.nextInt(1, 600));
            case RANDOM_AFTER_STARTUP -> concat(g.startup(), g.someValid(r.nextInt(3)), g.randomBytes(r.nextInt(1, 600)));
            case CORRUPTED_LENGTH -> g.corruptedLength();
            case TRUNCATED -> g.truncated();
            case UNKNOWN_TYPE -> g.unknownType();
            case HUGE_LENGTH -> g.hugeLength();
            case BAD_STARTUP -> g.badStartup();
            case OUT_OF_PHASE -> g.outOfPhase();
            case MUTATED_SESSION -> g.mutate(concat(g.startup(), g.someValid(r.nextInt(2, 12))));
        };
        Ending ending = switch (r.nextInt(10)) {
            case 0, 1 -> Ending.CLOSE;
            case 2 -> Ending.RESET;
            case 3 -> Ending.HALF_CLOSE;
            default -> Ending.READ_UNTIL_QUIET;
        };
        return new Case(index, kind, bytes, g.chunks(bytes.length), ending, g.encryptionRequests);
    }

    private static long mix(long seed, long index) {
        long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final class Gen {
        final SplittableRandom r;
        final Target t;
        int encryptionRequests;
        /** The bytes must arrive in one write: an encryption request with bytes pipelined behind it. */
        boolean oneWrite;

        Gen(SplittableRandom r, Target t) {
            this.r = r;
            this.t = t;
        }

        byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            r.nextBytes(b);
            if (n > 0 && r.nextBoolean()) {
                // printable text is closer to what a confused client sends (HTTP, TLS records, typos)
                String[] texts = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u0016\u0003\u0001\u0002\u0000\u0001", "SELECT 1;\n", "\u0000"};
                byte[] text = texts[r.nextInt(texts.length)].getBytes(StandardCharsets.UTF_8);
                System.arraycopy(text, 0, b, 0, Math.min(n, text.length));
            }
            return b;
        }

        byte[] startup() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (r.nextInt(8) == 0) {
                out.writeBytes(packet(SSL_REQUEST, new byte[0]));
                encryptionRequests++;
                // the request is answered before the startup is sent: the fragmenting writes keep them apart
            }
            out.writeBytes(startupPacket(PROTOCOL_3_0, params()));
            return out.toByteArray();
        }

        Map<String, String> params() {
            Map<String, String> p = new java.util.LinkedHashMap<>();
            p.put("user", t.user());
            p.put("database", t.database());
            p.put("application_name", t.applicationName());
            if (r.nextInt(4) == 0) {
                p.put("options", "-c statement_timeout=5000");
            }
            if (r.nextInt(6) == 0) {
                p.put("client_encoding", "UTF8");
            }
            return p;
        }

        String sql() {
            return SQL[r.nextInt(SQL.length)];
        }

        byte[] someValid(int n) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                out.writeBytes(validMessage());
            }
            return out.toByteArray();
        }

        /** One frontend message, well formed on its own (its place in the conversation may not be). */
        byte[] validMessage() {
            String name = r.nextInt(3) == 0 ? "s" + r.nextInt(3) : "";
            return switch (r.nextInt(16)) {
                case 0, 1, 2 -> message('Q', cstring(sql()));
                case 3 -> parse(name, sql());
                case 4 -> bind(name, name, r.nextInt(3));
                case 5 -> message('D', concat(new byte[] {(byte) (r.nextBoolean() ? 'S' : 'P')}, cstring(name)));
                case 6 -> message('E', concat(cstring(name), int32(r.nextInt(3))));
                case 7, 8 -> message('S', new byte[0]);
                case 9 -> message('H', new byte[0]);
                case 10 -> message('C', concat(new byte[] {(byte) (r.nextBoolean() ? 'S' : 'P')}, cstring(name)));
                case 11 -> message('d', randomBytes(r.nextInt(0, 40)));
                case 12 -> message(r.nextBoolean() ? 'c' : 'f', r.nextBoolean() ? new byte[0] : cstring("fuzz"));
                case 13 -> message('F', concat(int32(r.nextInt(1, 3000)), new byte[] {0, 0, 0, 0, 0, 0}));
                case 14 -> message('p', cstring("secret"));
                default -> r.nextInt(4) == 0 ? message('X', new byte[0]) : message('Q', cstring("SELECT 1"));
            };
        }

        byte[] parse(String name, String sql) {
            int n = r.nextInt(3);
            ByteArrayOutputStream types = new ByteArrayOutputStream();
            types.writeBytes(int16(n));
            for (int i = 0; i < n; i++) {
                types.writeBytes(int32(r.nextBoolean() ? 0 : 25));
            }
            return message('P', concat(cstring(name), cstring(sql), types.toByteArray()));
        }

        byte[] bind(String portal, String statement, int parameters) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(cstring(portal));
            b.writeBytes(cstring(statement));
            int formats = r.nextInt(3);
            b.writeBytes(int16(formats));
            for (int i = 0; i < formats; i++) {
                b.writeBytes(int16(r.nextInt(2)));
            }
            b.writeBytes(int16(parameters));
            for (int i = 0; i < parameters; i++) {
                if (r.nextInt(5) == 0) {
                    b.writeBytes(int32(-1));
                } else {
                    byte[] v = (r.nextBoolean() ? "2601e799-51b3-47a7-a64f-18688d148887" : Integer.toString(r.nextInt()))
                            .getBytes(StandardCharsets.UTF_8);
                    b.writeBytes(int32(v.length));
                    b.writeBytes(v);
                }
            }
            int results = r.nextInt(3);
            b.writeBytes(int16(results));
            for (int i = 0; i < results; i++) {
                b.writeBytes(int16(r.nextInt(2)));
            }
            return message('B', b.toByteArray());
        }

        byte[] corruptedLength() {
            byte[] victim = validMessage();
            int real = ByteBuffer.wrap(victim, 1, 4).getInt();
            int[] choices = {0, 1, 3, 4, real - 1, real + 1, real - r.nextInt(1, 8), real + r.nextInt(1, 64), -1,
                Integer.MIN_VALUE, r.nextInt(), 1 << 30, (1 << 30) - 1};
            ByteBuffer.wrap(victim, 1, 4).putInt(choices[r.nextInt(choices.length)]);
            return concat(startup(), someValid(r.nextInt(3)), victim, someValid(r.nextInt(3)));
        }

        byte[] truncated() {
            byte[] whole = concat(startup(), someValid(r.nextInt(1, 6)));
            int keep = r.nextInt(0, whole.length);
            return java.util.Arrays.copyOf(whole, keep);
        }

        byte[] unknownType() {
            byte type;
            do {
                type = (byte) r.nextInt(256);
            } while ("QPBDECSHXFdcfp".indexOf((char) (type & 0xff)) >= 0);
            return concat(startup(), someValid(r.nextInt(3)), message((char) (type & 0xff), randomBytes(r.nextInt(0, 64))),
                    someValid(r.nextInt(3)));
        }

        byte[] hugeLength() {
            int[] lengths = {Integer.MAX_VALUE, 1 << 30, (1 << 30) - 1, 100_000_000, 10_001, 1 << 24};
            int length = lengths[r.nextInt(lengths.length)];
            byte[] tail = randomBytes(r.nextInt(0, 2000));
            if (r.nextInt(3) == 0) {
                // a startup packet claiming to be huge
                return concat(int32(length), int32(PROTOCOL_3_0), tail);
            }
            char type = "QPBdEX".charAt(r.nextInt(6));
            return concat(startup(), someValid(r.nextInt(3)), new byte[] {(byte) type}, int32(length), tail);
        }

        byte[] badStartup() {
            Map<String, String> p = params();
            return switch (r.nextInt(14)) {
                case 0 -> {
                    byte[] s = startupPacket(PROTOCOL_3_0, p);
                    s[s.length - 1] = 'x';
                    yield s;
                }
                case 1 -> {
                    byte[] s = startupPacket(PROTOCOL_3_0, p);
                    yield packet(PROTOCOL_3_0, java.util.Arrays.copyOf(body(s), body(s).length - r.nextInt(1, 4)));
                }
                case 2 -> packet(PROTOCOL_3_0, concat(cstring("user"), cstring(t.user()), cstring("database")));
                case 3 -> startupPacket(new int[] {0x00020000, 0x00030001, 0x00030063, 0x00040000, 0x12345678, 0}[r.nextInt(6)], p);
                case 4 -> packet(SSL_REQUEST, randomBytes(r.nextInt(1, 8)));
                case 5 -> packet(CANCEL_REQUEST, randomBytes(new int[] {0, 2, 3, 257, 300}[r.nextInt(5)]));
                case 6 -> {
                    oneWrite = true;
                    yield concat(packet(SSL_REQUEST, new byte[0]), startupPacket(PROTOCOL_3_0, p));
                }
                case 7 -> {
                    oneWrite = true;
                    yield concat(packet(GSSENC_REQUEST, new byte[0]), randomBytes(r.nextInt(1, 50)));
                }
                case 8 -> {
                    Map<String, String> big = new java.util.LinkedHashMap<>(p);
                    big.put("application_name", "x".repeat(r.nextInt(5_000, 12_000)));
                    yield startupPacket(PROTOCOL_3_0, big);
                }
                case 9 -> {
                    byte[] s = startupPacket(PROTOCOL_3_0, p);
                    byte[] b = body(s);
                    b[r.nextInt(b.length)] = (byte) r.nextInt(128, 256);
                    yield packet(PROTOCOL_3_0, b);
                }
                case 10 -> {
                    Map<String, String> odd = new java.util.LinkedHashMap<>(p);
                    odd.put("", "empty-name");
                    odd.put("_pq_.unknown", "1");
                    yield startupPacket(PROTOCOL_3_0, odd);
                }
                case 11 -> {
                    int n = r.nextInt(1, 4);
                    encryptionRequests += n;
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    for (int i = 0; i < n; i++) {
                        out.writeBytes(packet(r.nextBoolean() ? SSL_REQUEST : GSSENC_REQUEST, new byte[0]));
                    }
                    out.writeBytes(startupPacket(PROTOCOL_3_0, p));
                    yield out.toByteArray();
                }
                case 12 -> packet(CANCEL_REQUEST, concat(int32(r.nextInt()), randomBytes(r.nextInt(4, 40))));
                default -> {
                    Map<String, String> noUser = new java.util.LinkedHashMap<>(p);
                    noUser.remove("user");
                    yield startupPacket(PROTOCOL_3_0, noUser);
                }
            };
        }

        byte[] outOfPhase() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(startup());
            int n = r.nextInt(1, 8);
            for (int i = 0; i < n; i++) {
                out.writeBytes(switch (r.nextInt(9)) {
                    case 0 -> bind("p" + r.nextInt(3), "nope" + r.nextInt(3), r.nextInt(3));
                    case 1 -> message('E', concat(cstring("never-bound"), int32(0)));
                    case 2 -> message('d', randomBytes(r.nextInt(1, 100)));
                    case 3 -> startupPacket(PROTOCOL_3_0, params());
                    case 4 -> packet(SSL_REQUEST, new byte[0]);
                    case 5 -> message('p', cstring("password"));
                    case 6 -> message('c', new byte[0]);
                    case 7 -> concat(message('X', new byte[0]), message('Q', cstring("SELECT 'after terminate'")));
                    default -> validMessage();
                });
            }
            return out.toByteArray();
        }

        byte[] mutate(byte[] in) {
            byte[] b = in;
            int n = r.nextInt(1, 5);
            for (int i = 0; i < n && b.length > 0; i++) {
                int at = r.nextInt(b.length);
                switch (r.nextInt(6)) {
                    case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> b[at] = (byte) r.nextInt(256);
                    case 2 -> b = concat(java.util.Arrays.copyOf(b, at), randomBytes(r.nextInt(1, 16)),
                            java.util.Arrays.copyOfRange(b, at, b.length));
                    case 3 -> {
                        int end = Math.min(b.length, at + r.nextInt(1, 16));
                        b = concat(java.util.Arrays.copyOf(b, at), java.util.Arrays.copyOfRange(b, end, b.length));
                    }
                    case 4 -> {
                        int end = Math.min(b.length, at + r.nextInt(1, 32));
                        byte[] piece = java.util.Arrays.copyOfRange(b, at, end);
                        b = concat(java.util.Arrays.copyOf(b, end), piece, java.util.Arrays.copyOfRange(b, end, b.length));
                    }
                    default -> {
                        // a length field set to a nearby value
                        if (at + 4 <= b.length) {
                            ByteBuffer.wrap(b, at, 4).putInt(ByteBuffer.wrap(b, at, 4).getInt() + r.nextInt(-8, 9));
                        }
                    }
                }
            }
            return b;
        }

        /** Write sizes: mostly all at once, sometimes in small pieces that split headers and bodies. */
        int[] chunks(int length) {
            if (encryptionRequests > 0) {
                return null; // written so that each encryption request waits for its answer
            }
            if (oneWrite || r.nextInt(4) != 0 || length == 0) {
                return new int[] {length};
            }
            List<Integer> sizes = new ArrayList<>();
            int left = length;
            while (left > 0) {
                int s = Math.min(left, r.nextInt(1, 12));
                sizes.add(s);
                left -= s;
            }
            return sizes.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    // ---- running ----

    /** Sends one case on a new connection and checks what comes back. */
    public static Outcome run(Case c, Target target) throws IOException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(target.host(), target.port()), 5000);
            s.setSoTimeout(QUIET_MILLIS);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            boolean closed = false;
            try {
                if (c.chunks() == null) {
                    closed = sendAwaitingEncryptionAnswers(c, out, in, answer);
                } else {
                    int at = 0;
                    for (int size : c.chunks()) {
                        out.write(c.bytes(), at, size);
                        out.flush();
                        at += size;
                    }
                }
            } catch (IOException e) {
                closed = true; // the server closed first (a reset while we were still writing)
            }
            switch (c.ending()) {
                case CLOSE -> {
                }
                case RESET -> s.setSoLinger(true, 0);
                case HALF_CLOSE -> {
                    if (!closed) {
                        try {
                            s.shutdownOutput();
                        } catch (IOException ignored) {
                            // already reset
                        }
                        s.setSoTimeout(5000);
                        closed = drain(in, answer, false);
                    }
                }
                case READ_UNTIL_QUIET -> {
                    if (!closed) {
                        closed = drain(in, answer, true);
                    }
                }
            }
            byte[] got = answer.toByteArray();
            return new Outcome(got.length, closed, firstErrorCode(got, c.encryptionRequests()),
                    checkAnswer(got, c.encryptionRequests(), closed));
        }
    }

    /** Writes a case with encryption requests in it: each request's answer is read before more is sent. */
    private static boolean sendAwaitingEncryptionAnswers(Case c, OutputStream out, InputStream in, ByteArrayOutputStream answer)
            throws IOException {
        byte[] b = c.bytes();
        int at = 0;
        while (at < b.length) {
            if (at + 8 <= b.length) {
                int len = ByteBuffer.wrap(b, at, 4).getInt();
                int code = ByteBuffer.wrap(b, at + 4, 4).getInt();
                if (len == 8 && (code == SSL_REQUEST || code == GSSENC_REQUEST)) {
                    out.write(b, at, 8);
                    out.flush();
                    at += 8;
                    int reply = readWithin(in, 5000);
                    if (reply < 0) {
                        return true;
                    }
                    answer.write(reply);
                    if (reply != 'N') {
                        return false; // an error message: the rest of it is read with the answer
                    }
                    continue;
                }
            }
            out.write(b, at, b.length - at);
            out.flush();
            at = b.length;
        }
        return false;
    }

    private static int readWithin(InputStream in, int millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            try {
                return in.read();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    return -1;
                }
            }
        }
    }

    /** Reads until the server closes (true), or, if {@code untilQuiet}, until it sends nothing for a while (false). */
    private static boolean drain(InputStream in, ByteArrayOutputStream answer, boolean untilQuiet) {
        byte[] buf = new byte[16384];
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(5);
        while (answer.size() < MAX_ANSWER && System.nanoTime() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return true;
                }
                answer.write(buf, 0, n);
            } catch (SocketTimeoutException quiet) {
                if (untilQuiet && (answer.size() > 0
                        || System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(FIRST_ANSWER_MILLIS))) {
                    return false;
                }
            } catch (IOException reset) {
                return true;
            }
        }
        return false;
    }

    /** Null if the answer is a well-formed server stream, otherwise what is wrong with it. */
    static String checkAnswer(byte[] got, int encryptionRequests, boolean closedByServer) {
        int at = 0;
        for (int i = 0; i < encryptionRequests && at < got.length; i++) {
            if (got[at] != 'N') {
                break; // an ErrorResponse instead of the answer byte
            }
            at++;
        }
        boolean fatalSeen = false;
        while (at < got.length) {
            if (got.length - at < 5) {
                return closedByServer ? "stream ends inside a message header at byte " + at : null;
            }
            char type = (char) (got[at] & 0xff);
            int len = ByteBuffer.wrap(got, at + 1, 4).getInt();
            if (BACKEND_TYPES.indexOf(type) < 0) {
                return "unknown message type '" + printable(type) + "' at byte " + at;
            }
            if (len < 4) {
                return "message length " + len + " at byte " + at;
            }
            if (fatalSeen) {
                return "message '" + type + "' after a FATAL error, at byte " + at;
            }
            if (got.length - at - 1 < len) {
                return closedByServer && got.length < MAX_ANSWER ? "stream ends inside a '" + type + "' message at byte " + at : null;
            }
            if (type == 'E') {
                String severity = errorField(got, at + 5, at + 1 + len, 'S');
                fatalSeen = "FATAL".equals(severity) || "PANIC".equals(severity);
            }
            at += 1 + len;
        }
        return null;
    }

    private static String firstErrorCode(byte[] got, int encryptionRequests) {
        int at = 0;
        while (at < got.length && at < encryptionRequests && got[at] == 'N') {
            at++;
        }
        while (got.length - at >= 5) {
            int len = ByteBuffer.wrap(got, at + 1, 4).getInt();
            if (len < 4 || got.length - at - 1 < len) {
                return null;
            }
            if (got[at] == 'E') {
                return errorField(got, at + 5, at + 1 + len, 'C');
            }
            at += 1 + len;
        }
        return null;
    }

    private static String errorField(byte[] b, int from, int to, char code) {
        int i = from;
        while (i < to && b[i] != 0) {
            char c = (char) b[i++];
            int end = i;
            while (end < to && b[end] != 0) {
                end++;
            }
            if (c == code) {
                return new String(b, i, end - i, StandardCharsets.UTF_8);
            }
            i = end + 1;
        }
        return null;
    }

    /**
     * Runs cases {@code 0..cases-1} (or until the duration has passed) on {@code concurrency}
     * threads, one connection per case.
     */
    public static Stats fuzz(Target target, long seed, long cases, Duration duration, int concurrency) throws InterruptedException {
        Stats stats = new Stats();
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency, runnable -> {
            Thread th = new Thread(runnable, "fuzz");
            th.setDaemon(true);
            return th;
        });
        for (int i = 0; i < concurrency; i++) {
            pool.execute(() -> {
                long index;
                while ((index = next.getAndIncrement()) < cases && System.nanoTime() < deadline) {
                    Case c = generate(seed, index, target);
                    try {
                        Outcome o = run(c, target);
                        stats.bytesReceived.add(o.received());
                        if (o.closedByServer()) {
                            stats.closedByServer.increment();
                        }
                        if (o.firstErrorCode() != null) {
                            stats.errorCodes.computeIfAbsent(o.firstErrorCode(), k -> new LongAdder()).increment();
                        }
                        if (o.violation() != null) {
                            stats.violations.put(index, c.kind() + " " + c.ending() + ": " + o.violation());
                        }
                    } catch (IOException e) {
                        stats.connectFailures.increment();
                    }
                    stats.cases.increment();
                    stats.byKind.get(c.kind()).increment();
                    stats.bytesSent.add(c.bytes().length);
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(duration.toMillis() + 60_000, TimeUnit.MILLISECONDS);
        pool.shutdownNow();
        stats.elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return stats;
    }

    // ---- encoding ----

    static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    static byte[] packet(int code, byte[] body) {
        return ByteBuffer.allocate(8 + body.length).putInt(8 + body.length).putInt(code).put(body).array();
    }

    static byte[] startupPacket(int version, Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        params.forEach((k, v) -> {
            body.writeBytes(cstring(k));
            body.writeBytes(cstring(v));
        });
        body.write(0);
        return packet(version, body.toByteArray());
    }

    private static byte[] body(byte[] packet) {
        return java.util.Arrays.copyOfRange(packet, 8, packet.length);
    }

    static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    static byte[] int32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static byte[] int16(int v) {
        return ByteBuffer.allocate(2).putShort((short) v).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c);
    }

    // ---- command line ----

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>(Map.of("host", "127.0.0.1", "port", "6432", "user", "fuzz",
                "database", "fuzz", "application", "fuzz", "seed", Long.toString(System.nanoTime()),
                "cases", Long.toString(Long.MAX_VALUE), "duration", "60", "concurrency", "16"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !a.containsKey(args[i].substring(2))) {
                System.err.println("usage: ProtocolFuzzer [--host H] [--port P] [--user U] [--database D] [--application A]"
                        + " [--seed S] [--cases N] [--duration SECONDS] [--concurrency C]");
                System.exit(2);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        Target target = new Target(a.get("host"), Integer.parseInt(a.get("port")), a.get("user"), a.get("database"),
                a.get("application"));
        long seed = Long.parseLong(a.get("seed"));
        System.out.println("fuzz seed " + seed);
        Stats stats = fuzz(target, seed, Long.parseLong(a.get("cases")), Duration.ofSeconds(Long.parseLong(a.get("duration"))),
                Integer.parseInt(a.get("concurrency")));
        System.out.println("fuzz result: " + stats);
        List<Long> bad = new ArrayList<>(stats.violations.keySet());
        Collections.sort(bad);
        for (Long i : bad.subList(0, Math.min(20, bad.size()))) {
            System.out.println("violation in case " + i + ": " + stats.violations.get(i));
        }
        System.exit(stats.violations.isEmpty() ? 0 : 1);
    }
}
