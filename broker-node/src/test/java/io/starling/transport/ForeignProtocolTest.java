package io.starling.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

class ForeignProtocolTest {
    /** The first bytes a real TLS client sends: the JDK's own ClientHello. */
    static byte[] clientHello(String protocol) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine e = ctx.createSSLEngine("broker.example", 8883);
        e.setUseClientMode(true);
        e.setEnabledProtocols(new String[] {protocol});
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    static ForeignProtocol of(byte[] b) {
        return ForeignProtocol.of(b, Math.min(16, b.length));
    }

    @Test
    void recognisesWhatOtherProtocolsSendFirst() throws Exception {
        assertEquals(ForeignProtocol.TLS, of(clientHello("TLSv1.2")));
        assertEquals(ForeignProtocol.TLS, of(clientHello("TLSv1.3")));
        assertEquals(ForeignProtocol.HTTP, of("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(ForeignProtocol.PROXY, of("PROXY TCP4 10.0.0.1 10.0.0.2 5555 1883\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(ForeignProtocol.PROXY, of(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
            0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C}));
    }

    @Test
    void leavesMqttAndTooShortInputToTheDecoder() {
        // CONNECT, 3.1.1, as mosquitto_pub sends it
        assertNull(of(new byte[] {0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c}));
        assertNull(of(new byte[] {0x16, 0x03}), "two bytes tell nothing yet");
        assertNull(of(new byte[] {0x16, 0x05, 0x00}), "not a TLS record version");
        assertNull(of("GE".getBytes(StandardCharsets.US_ASCII)));
    }
}
