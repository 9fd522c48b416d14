package io.pgbailiff.it;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal PostgreSQL client speaking raw protocol bytes, for what real drivers cannot do on
 * purpose: protocol 3.2 startups, malformed input, reading a result slowly.
 */
public final class RawPgClient implements AutoCloseable {
    /** One backend message: its type byte and body. */
    public record Message(char type, byte[] body) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(body);
        }

        /** The fields of an ErrorResponse or NoticeResponse. */
        public Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                f.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return f;
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    public RawPgClient(int port) throws IOException {
        this(port, 0);
    }

    /** @param receiveBuffer the socket receive buffer size, 0 for the system default */
    public RawPgClient(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public static byte[] startupPacket(int protocolVersion, Map<String, String> params) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (var e : params.entrySet()) {
            body.writeBytes(cstring(e.getKey()));
            body.writeBytes(cstring(e.getValue()));
        }
        body.write(0);
        return ByteBuffer.allocate(8 + body.size()).putInt(8 + body.size()).putInt(protocolVersion).put(body.toByteArray()).array();
    }

    public static byte[] sslRequest() {
        return ByteBuffer.allocate(8).putInt(8).putInt(80877103).array();
    }

    public static byte[] cancelRequest(int pid, byte[] key) {
        return ByteBuffer.allocate(12 + key.length).putInt(12 + key.length).putInt(80877102).putInt(pid).put(key).array();
    }

    public static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    public static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    /** Parse of an unnamed-parameter statement. */
    public static byte[] parse(String name, String sql) {
        return message('P', concat(cstring(name), cstring(sql), new byte[]{0, 0}));
    }

    /** Bind with no parameters and text results. */
    public static byte[] bind(String portal, String statement) {
        return message('B', concat(cstring(portal), cstring(statement), new byte[]{0, 0, 0, 0, 0, 0}));
    }

    public static byte[] describePortal(String portal) {
        return message('D', concat(new byte[]{'P'}, cstring(portal)));
    }

    /** Execute with no row limit. */
    public static byte[] execute(String portal) {
        return message('E', concat(cstring(portal), new byte[]{0, 0, 0, 0}));
    }

    public static byte[] sync() {
        return message('S', new byte[0]);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The type bytes of the messages up to and including the next ReadyForQuery. */
    public String responseTypes() throws IOException {
        StringBuilder types = new StringBuilder();
        Message m;
        do {
            m = read();
            types.append(m.type());
        } while (m.type() != 'Z');
        return types.toString();
    }

    public static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] r = new byte[b.length + 1];
        System.arraycopy(b, 0, r, 0, b.length);
        return r;
    }

    /** Starts up with protocol 3.0 and {@code params} (trust authentication) and reads up to the first ReadyForQuery. */
    public RawPgClient logIn(Map<String, String> params) throws IOException {
        send(startupPacket(196608, params));
        readUntil('Z');
        return this;
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public int readByte() throws IOException {
        return in.read();
    }

    public Message read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed");
        }
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Message((char) type, body);
    }

    /** Reads messages until one of the given type, returning it. */
    public Message readUntil(char type) throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == type) {
                return m;
            }
            if (m.type() == 'E' && type != 'E') {
                throw new IOException("error instead of '" + type + "': " + m);
            }
        }
    }

    /**
     * Returns once the server has closed the connection (end of stream, or a reset); throws
     * {@link java.net.SocketTimeoutException} if it is still open after the socket timeout.
     */
    public void awaitClosedByServer() throws IOException {
        try {
            while (in.read() >= 0) {
                // drain whatever came before the close
            }
        } catch (java.net.SocketException reset) {
            // closed with a reset
        }
    }

    /** The client's own port: the proxy sees the connection as coming from it. */
    public int localPort() {
        return socket.getLocalPort();
    }

    public void setTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    public DataInputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
