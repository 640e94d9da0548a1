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
    /**
     * The CN of the client certificate the proxy verified (PROXY v2 SSL TLV: a certificate sent on
     * this connection or its TLS session, verify result 0, and its PP2_SUBTYPE_SSL_CN).
     */
    static final AttributeKey<String> CERTIFICATE_CN = AttributeKey.valueOf("starling.proxied-certificate-cn");

    /** The CN of a client certificate the proxy says it verified, or null (none sent, or not verified). */
    static String verifiedCn(HAProxyMessage header) {
        for (io.netty.handler.codec.haproxy.HAProxyTLV tlv : header.tlvs()) {
            if (tlv instanceof io.netty.handler.codec.haproxy.HAProxySSLTLV ssl && ssl.isPP2ClientSSL()
                    && (ssl.isPP2ClientCertConn() || ssl.isPP2ClientCertSess()) && ssl.verify() == 0) {
                for (io.netty.handler.codec.haproxy.HAProxyTLV sub : ssl.encapsulatedTLVs()) {
                    if (sub.type() == io.netty.handler.codec.haproxy.HAProxyTLV.Type.PP2_TYPE_SSL_CN) {
                        return sub.content().toString(java.nio.charset.StandardCharsets.UTF_8);
                    }
                }
            }
        }
        return null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                    String host = header.sourceAddress();
                    ctx.channel().attr(CLIENT).set((host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + header.sourcePort());
                    String cn = verifiedCn(header);
                    if (cn != null) {
                        ctx.channel().attr(CERTIFICATE_CN).set(cn);
                    }
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
