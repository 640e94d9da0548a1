package io.starling.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.util.AttributeKey;

/**
 * On a listener behind a load balancer that speaks the PROXY protocol (HAProxy
 * {@code send-proxy}/{@code send-proxy-v2}, AWS NLB): takes the client's own address from the
 * header Netty's {@code HAProxyMessageDecoder} read in front of this handler, for the logs and
 * everything else that names the client by its address, then leaves the pipeline. A LOCAL
 * header (the balancer's own health check) keeps the socket's address. A connection that does
 * not start with a header fails in the decoder and is closed ({@link MqttConnection}).
 */
final class ProxyHeader extends ChannelInboundHandlerAdapter {
    /** The client's address as the PROXY header gave it, "host:port". */
    static final AttributeKey<String> CLIENT = AttributeKey.valueOf("starling.proxied-client");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                    String host = header.sourceAddress();
                    ctx.channel().attr(CLIENT).set((host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + header.sourcePort());
                }
            } finally {
                header.release();
                ctx.pipeline().remove(this);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
