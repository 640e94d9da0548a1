package io.starling.loadtest;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.spi.tls.DefaultSslContextFactory;
import io.vertx.core.spi.tls.SslContextFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the generator's connections (--cafile): the server's certificate is verified against
 * that CA; its host name is not checked (the generator connects by address).
 *
 * <p>Session resumption is off unless --tls-resumption on: then every connection is a full
 * handshake (key exchange and the server's signature), which is what a connect storm of new
 * devices costs a broker. Both the JDK's and OpenSSL's client look for a session to resume by
 * the peer's host and port; an engine made without them has nothing to look up, so it offers no
 * session ID and no PSK. (Nor, then, SNI: the brokers measured serve one certificate.)
 *
 * <p>--tls-provider openssl (netty-tcnative, the BoringSSL the broker ships) does the client's
 * half of each handshake in C, so that on a machine the broker shares, the generator takes less of
 * the CPU the broker is measured on.
 */
public final class ClientTls {
    private ClientTls() {
    }

    /** Turns TLS on in these options, as --cafile, --tls-provider and --tls-resumption say. */
    public static NetClientOptions apply(NetClientOptions opts, Path caFile, String provider, boolean resumption) {
        if (provider.equals("openssl") && !OpenSsl.isAvailable()) {
            throw new IllegalStateException("--tls-provider openssl, but OpenSSL cannot be loaded here: "
                    + OpenSsl.unavailabilityCause());
        }
        return opts.setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(caFile.toString()))
                .setHostnameVerificationAlgorithm("")
                .setSslEngineOptions(new EngineOptions(provider, resumption));
    }

    /** Vert.x's engine options with our context factory behind them. */
    static final class EngineOptions extends SSLEngineOptions {
        private final String provider;
        private final boolean resumption;

        EngineOptions(String provider, boolean resumption) {
            this.provider = provider;
            this.resumption = resumption;
        }

        @Override
        public SSLEngineOptions copy() {
            return new EngineOptions(provider, resumption);
        }

        @Override
        public SslContextFactory sslContextFactory() {
            // Vert.x's factory knows OPENSSL and JDK only (OPENSSL_REFCNT: UnsupportedOperationException).
            SslProvider p = provider.equals("openssl") ? SslProvider.OPENSSL : SslProvider.JDK;
            DefaultSslContextFactory d = new DefaultSslContextFactory(p, resumption);
            return new SslContextFactory() {
                @Override
                public SslContextFactory useAlpn(boolean useAlpn) {
                    d.useAlpn(useAlpn);
                    return this;
                }

                @Override
                public SslContextFactory clientAuth(ClientAuth clientAuth) {
                    d.clientAuth(clientAuth);
                    return this;
                }

                @Override
                public SslContextFactory forClient(boolean forClient) {
                    d.forClient(forClient);
                    return this;
                }

                @Override
                public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
                    d.keyMananagerFactory(kmf);
                    return this;
                }

                @Override
                public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
                    d.trustManagerFactory(tmf);
                    return this;
                }

                @Override
                public SslContextFactory enabledCipherSuites(Set<String> suites) {
                    d.enabledCipherSuites(suites);
                    return this;
                }

                @Override
                public SslContextFactory applicationProtocols(List<String> protocols) {
                    d.applicationProtocols(protocols);
                    return this;
                }

                @Override
                public SslContext create() throws SSLException {
                    SslContext ctx = d.create();
                    return resumption ? ctx : new FullHandshakes(ctx);
                }
            };
        }
    }

    /** A client context whose engines never know their peer, so never resume a session. */
    static final class FullHandshakes extends SslContext {
        private final SslContext delegate;

        FullHandshakes(SslContext delegate) {
            this.delegate = delegate;
        }

        @Override
        public boolean isClient() {
            return delegate.isClient();
        }

        @Override
        public List<String> cipherSuites() {
            return delegate.cipherSuites();
        }

        @Override
        @SuppressWarnings("deprecation")
        public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
            return delegate.applicationProtocolNegotiator();
        }

        @Override
        public SSLEngine newEngine(ByteBufAllocator alloc) {
            return delegate.newEngine(alloc);
        }

        @Override
        public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
            return delegate.newEngine(alloc); // no host and port: no cached session is looked up
        }

        @Override
        public SSLSessionContext sessionContext() {
            return delegate.sessionContext();
        }
    }
}
