package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/**
 * Resumption off means engines that do not know their peer: the JDK and OpenSSL look a session
 * up by the peer's host and port, so such an engine has none to offer and every handshake is full.
 */
class ClientTlsTest {
    @Test
    void withoutResumptionEnginesForgetThePeerTheyAreMadeFor() throws Exception {
        for (SslProvider p : OpenSsl.isAvailable() ? new SslProvider[] {SslProvider.JDK, SslProvider.OPENSSL_REFCNT}
                : new SslProvider[] {SslProvider.JDK}) {
            SslContext ctx = SslContextBuilder.forClient().sslProvider(p)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            SSLEngine resuming = ctx.newEngine(ByteBufAllocator.DEFAULT, "127.0.0.1", 8883);
            assertEquals("127.0.0.1", resuming.getPeerHost(), p + ": an ordinary engine knows its peer");
            SslContext full = new ClientTls.FullHandshakes(ctx);
            assertTrue(full.isClient());
            SSLEngine fresh = full.newEngine(ByteBufAllocator.DEFAULT, "127.0.0.1", 8883);
            assertNull(fresh.getPeerHost(), p + ": nothing to look a session up by");
            assertEquals(-1, fresh.getPeerPort(), p.toString());
            assertTrue(fresh.getUseClientMode());
            ReferenceCountUtil.release(resuming);
            ReferenceCountUtil.release(fresh);
            ReferenceCountUtil.release(ctx);
        }
    }

    @Test
    void openSslIsThereForTheClientOnLinuxX8664() {
        String arch = System.getProperty("os.arch");
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux")
                && (arch.equals("amd64") || arch.equals("x86_64")));
        assertTrue(OpenSsl.isAvailable(), String.valueOf(OpenSsl.unavailabilityCause()));
    }
}
