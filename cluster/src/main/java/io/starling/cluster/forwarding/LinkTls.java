package io.starling.cluster.forwarding;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;

/**
 * Mutual TLS on the node-to-node links: every node presents its certificate and accepts a peer
 * only with one issued by the cluster's CA, both ways. Hazelcast Community has no TLS for its
 * member traffic (an Enterprise feature), so these links, which carry every forwarded message, are
 * the part of the cluster's traffic Starling can protect itself (docs/adr/0012).
 *
 * <p>Host names are not verified: nodes reach each other by the addresses membership gives (pod
 * IPs that change with every restart), and the proof of being a node is the certificate from the
 * cluster's own CA, not a name.
 *
 * @param certChain PEM certificate chain, the node's first
 * @param key       PEM PKCS#8 private key of that certificate
 * @param ca        PEM bundle of the CAs a peer's certificate must come from
 */
public record LinkTls(Buffer certChain, Buffer key, Buffer ca) {

    private PemKeyCertOptions keyCert() {
        return new PemKeyCertOptions().addCertValue(certChain).addKeyValue(key);
    }

    private PemTrustOptions trust() {
        return new PemTrustOptions().addCertValue(ca);
    }

    NetServerOptions applyTo(NetServerOptions o) {
        return o.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setClientAuth(ClientAuth.REQUIRED);
    }

    NetClientOptions applyTo(NetClientOptions o) {
        return o.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setHostnameVerificationAlgorithm("");
    }

    ServerSSLOptions serverOptions() {
        return new ServerSSLOptions().setKeyCertOptions(keyCert()).setTrustOptions(trust()).setClientAuth(ClientAuth.REQUIRED);
    }

    ClientSSLOptions clientOptions() {
        return new ClientSSLOptions().setKeyCertOptions(keyCert()).setTrustOptions(trust()).setHostnameVerificationAlgorithm("");
    }
}
