package io.pgbailiff.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A typed message whose body can be read: a {@link PgFrame} that was delivered, or a message a
 * {@link FrameInspector} is shown while it is being decoded. The typed decoders in
 * {@link FrontendMessage} and {@link BackendMessage} read either.
 */
public interface PgMessage {

    byte type();

    /**
     * The message body after the type byte and the length, from its first byte to its last.
     * Each call starts again at the first byte; read it with relative reads or within its
     * reader and writer index, and do not retain or release it.
     */
    ByteBuf payload();
}
