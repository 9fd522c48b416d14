package io.pgbailiff.protocol;

/**
 * Looks at a complete message of interest while it is being decoded, so that the common message
 * that only needs to be seen can travel on as raw bytes with its neighbours: one buffer and one
 * write for a whole pipelined Bind/Execute/Sync, or for a result up to and including its
 * ReadyForQuery, instead of one per message.
 *
 * <p>The message passed in is valid during the call only, and is the same object for every message
 * (looking allocates nothing): do not keep it or its payload, and write nothing from here, as the
 * bytes before the message have not been passed on yet. A message that needs more than a look is
 * left to the receiver: return false, and it is delivered as a {@link PgFrame}, after which the
 * decoder stops until the receiver has had it, so the next message is inspected with what that
 * one changed. An inspector that throws refuses: the message is delivered as a frame, whose
 * receiver reports what is wrong with it; so decode everything needed before changing anything.
 */
@FunctionalInterface
public interface FrameInspector {

    /** True if the message was fully dealt with by looking at it and goes on unchanged as raw bytes. */
    boolean relayAsIs(PgMessage message);
}
