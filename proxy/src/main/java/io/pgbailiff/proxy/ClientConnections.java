package io.pgbailiff.proxy;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client connections of one proxy: every open channel (so shutdown can reach them all) and
 * how many hold a session slot under {@code --max-client-connections}. A slot is taken when the
 * StartupMessage arrives, so CancelRequests and connections that never start up are not counted.
 */
final class ClientConnections {
    private final ChannelGroup channels = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger admitted = new AtomicInteger();
    private final int max;
    private volatile boolean draining;

    ClientConnections(int max) {
        this.max = max;
    }

    void opened(Channel client) {
        channels.add(client);
    }

    int open() {
        return channels.size();
    }

    /** Takes a slot; false (and no slot) when all are taken. */
    boolean admit() {
        if (admitted.incrementAndGet() > max) {
            admitted.decrementAndGet();
            return false;
        }
        return true;
    }

    /** From now on, start-ups are refused with 57P03. */
    void startDraining() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    void release() {
        admitted.decrementAndGet();
    }

    List<FrontendHandler> handlers() {
        List<FrontendHandler> handlers = new ArrayList<>(channels.size());
        for (Channel c : channels) {
            FrontendHandler h = c.pipeline().get(FrontendHandler.class);
            if (h != null) {
                handlers.add(h);
            }
        }
        return handlers;
    }
}
