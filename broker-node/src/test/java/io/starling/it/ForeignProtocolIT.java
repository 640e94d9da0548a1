package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A TLS client (the JDK's) and an HTTP client on the plain MQTT port: told apart from malformed MQTT. */
class ForeignProtocolIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    final List<String> logged = new CopyOnWriteArrayList<>();
    final Logger connectionLog = Logger.getLogger("io.starling.transport.MqttConnection");
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(new java.util.logging.SimpleFormatter().formatMessage(r));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        connectionLog.addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        connectionLog.removeHandler(capture);
    }

    private boolean loggedWithin(String text, long ms) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < deadline) {
            if (logged.stream().anyMatch(l -> l.contains(text))) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Test
    void aTlsClientOnThePlainPortIsToldApartAndClosed() throws Exception {
        String series = "starling_foreign_protocol_connections_total{protocol=\"tls\"}";
        try (SSLSocket s = (SSLSocket) SSLSocketFactory.getDefault().createSocket("127.0.0.1", broker.port())) {
            s.setSoTimeout(5000);
            assertThrows(IOException.class, s::startHandshake, "the broker closes rather than answering in MQTT");
        }
        assertTrue(loggedWithin("TLS on a plain MQTT port?", 5000), "logged: " + logged);
        assertEquals(1.0, broker.metric(series));
        assertEquals(0, logged.stream().filter(l -> l.contains("broke [")).count(), "not logged as a bare protocol error");
    }

    @Test
    void anHttpRequestOnThePlainPortIsToldApart() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThrows(IOException.class, () -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + broker.port() + "/mqtt")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
        assertTrue(loggedWithin("HTTP on an MQTT port?", 5000), "logged: " + logged);
        // The JDK's client tries a GET a second time on a closed connection: one or two connections.
        double counted = broker.metric("starling_foreign_protocol_connections_total{protocol=\"http\"}");
        assertTrue(counted >= 1 && counted <= 2, "counted " + counted);
    }
}
