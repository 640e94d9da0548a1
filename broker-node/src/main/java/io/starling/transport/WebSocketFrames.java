package io.starling.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MQTT over WebSocket (MQTT 5.0 section 6, 3.1.1 section 6): after Netty's upgrade handler, the
 * content of binary frames is the MQTT byte stream, whatever the frame boundaries [MQTT-6.0.0-2]
 * [MQTT-6.0.0-3], and what the connection writes goes out as binary frames. A text frame ends the
 * connection [MQTT-6.0.0-1]. An HTTP request for any other path is answered 404.
 */
final class WebSocketFrames extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(WebSocketFrames.class);

    /** "mqtt" is the subprotocol MQTT 3.1.1 and 5.0 register [MQTT-6.0.0-3]; 3.1 clients ask for "mqttv3.1". */
    static final String SUBPROTOCOLS = "mqtt,mqttv3.1";

    static WebSocketServerProtocolHandler upgrade(String path, int maxPacketSize, long handshakeTimeoutMillis) {
        return new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(path)
                .subprotocols(SUBPROTOCOLS)
                .checkStartsWith(false)
                // One frame may carry one whole packet; the MQTT decoder bounds packets itself.
                .maxFramePayloadLength(maxPacketSize + 5)
                .handshakeTimeoutMillis(handshakeTimeoutMillis)
                .dropPongFrames(true)
                .build());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
            ctx.fireChannelRead(((WebSocketFrame) msg).content());
        } else if (msg instanceof WebSocketFrame frame) {
            log.info("connection {}: a {} frame on an MQTT WebSocket (only binary frames carry MQTT [MQTT-6.0.0-1]); closing",
                    ctx.channel().remoteAddress(), frame.getClass().getSimpleName());
            frame.release();
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE))
                    .addListener(ChannelFutureListener.CLOSE);
        } else if (msg instanceof FullHttpRequest request) {
            // Not the upgrade path (the upgrade handler took that one).
            log.info("connection {}: HTTP {} {} is not the MQTT WebSocket path; answering 404",
                    ctx.channel().remoteAddress(), request.method(), request.uri());
            request.release();
            DefaultFullHttpResponse notFound = new DefaultFullHttpResponse(request.protocolVersion(),
                    HttpResponseStatus.NOT_FOUND, Unpooled.EMPTY_BUFFER);
            notFound.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(notFound).addListener(ChannelFutureListener.CLOSE);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf bytes) {
            ctx.write(bytes.isReadable() ? new BinaryWebSocketFrame(bytes) : bytes, promise);
        } else {
            ctx.write(msg, promise);
        }
    }
}
