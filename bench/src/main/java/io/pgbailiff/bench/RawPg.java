package io.pgbailiff.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The least client that can hold a PostgreSQL session open: a StartupMessage, trust
 * authentication, and then nothing. Thousands of these cost the benchmark almost nothing, unlike
 * thousands of JDBC connections, so the memory measured is the proxy's.
 */
final class RawPg implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawPg(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1024));
        this.out = socket.getOutputStream();
    }

    /** Connects and reads up to the first ReadyForQuery; only trust authentication is supported. */
    static RawPg connect(String host, int port, String user, String database, String applicationName)
            throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), 30_000);
            s.setSoTimeout(60_000);
            RawPg pg = new RawPg(s);
            pg.startup(user, database, applicationName);
            return pg;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void startup(String user, String database, String applicationName) throws IOException {
        byte[] params = ("user\0" + user + "\0database\0" + database + "\0application_name\0" + applicationName + "\0\0")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + params.length);
        b.putInt(8 + params.length).putInt(196608).put(params);
        out.write(b.array());
        out.flush();
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = body();
            if (type == 'R' && ByteBuffer.wrap(body).getInt() != 0) {
                throw new IOException("the server asks for a password; the benchmark needs trust authentication");
            }
            if (type == 'E') {
                throw new IOException("server error: " + errorText(body));
            }
            if (type == 'Z') {
                return;
            }
        }
    }

    /** Runs one simple query to its ReadyForQuery; returns the number of DataRows. */
    int query(String sql) throws IOException {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(6 + text.length);
        b.put((byte) 'Q').putInt(5 + text.length).put(text).put((byte) 0);
        out.write(b.array());
        out.flush();
        int rows = 0;
        String error = null;
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = body();
            if (type == 'D') {
                rows++;
            } else if (type == 'E') {
                error = errorText(body);
            } else if (type == 'Z') {
                if (error != null) {
                    throw new IOException("server error: " + error);
                }
                return rows;
            }
        }
    }

    private byte[] body() throws IOException {
        int length = in.readInt();
        if (length < 4) {
            throw new EOFException("bad message length " + length);
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return body;
    }

    private static String errorText(byte[] body) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char field = (char) body[i++];
            int end = i;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            if (field == 'C' || field == 'M') {
                b.append(b.length() > 0 ? " " : "").append(new String(body, i, end - i, StandardCharsets.UTF_8));
            }
            i = end + 1;
        }
        return b.toString();
    }

    @Override
    public void close() {
        try {
            out.write(new byte[] {'X', 0, 0, 0, 4});
            out.flush();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}
