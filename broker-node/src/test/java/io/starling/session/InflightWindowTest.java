package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Properties;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

class InflightWindowTest {
    static Delivery delivery(String topic) {
        return new Delivery(new Message(topic, new byte[0], 1, false, Properties.EMPTY, 0, "p", 0), 1, false,
                Delivery.NO_IDS, null);
    }

    @Test
    void windowIsFullAtItsCapacity() {
        InflightWindow w = new InflightWindow(2);
        w.add(1, delivery("a"));
        assertTrue(w.hasRoom());
        w.add(2, delivery("b"));
        assertFalse(w.hasRoom(), "[MQTT-3.3.4-9] no more than Receive Maximum in flight");
        w.remove(1);
        assertTrue(w.hasRoom());
    }

    @Test
    void entriesStayInSendOrderForResend() {
        InflightWindow w = new InflightWindow(10);
        w.add(7, delivery("a"));
        w.add(3, delivery("b"));
        w.add(9, delivery("c"));
        w.remove(3);
        w.add(1, delivery("d"));
        assertEquals(List.of(7, 9, 1), w.inOrder().stream().map(InflightWindow.Entry::packetId).toList(),
                "[MQTT-4.4.0-1] resend in the original order");
    }

    @Test
    void smallerReceiveMaximumOnReconnectClosesTheWindowUntilAcksArrive() {
        InflightWindow w = new InflightWindow(3);
        w.add(1, delivery("a"));
        w.add(2, delivery("b"));
        w.setCapacity(1);
        assertFalse(w.hasRoom());
        w.remove(1);
        assertFalse(w.hasRoom());
        w.remove(2);
        assertTrue(w.hasRoom());
        assertNull(w.get(2));
    }
}
