package io.starling.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.starling.protocol.Properties;
import io.starling.routing.Message;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** What every {@link RetainedStore} must do; each implementation extends this. */
abstract class RetainedStoreContract {

    /** The store under test; {@link #reader()} may be another view of it (another cluster member). */
    abstract RetainedStore store();

    RetainedStore reader() {
        return store();
    }

    /** Waits until changes made through {@link #store()} are visible through {@link #reader()}. */
    void awaitPropagation(int expectedSize) throws InterruptedException {
    }

    static Message message(String topic, String payload, long expiresAt) {
        Properties p = new Properties();
        p.contentType = "text/plain";
        p.addUserProperty("k", "v");
        return new Message(topic, payload.getBytes(StandardCharsets.UTF_8), 1, true, p, expiresAt, "c", 0);
    }

    Set<String> topicsMatching(String filter) {
        Set<String> found = new TreeSet<>();
        reader().match(TopicFilter.of(filter), System.currentTimeMillis(), m -> found.add(m.topic()));
        return found;
    }

    @Test
    void retainedMessageIsReplacedPerTopicAndFoundByWildcards() throws Exception {
        store().put(TopicName.of("a/b"), message("a/b", "1", 0));
        store().put(TopicName.of("a/b"), message("a/b", "2", 0));
        store().put(TopicName.of("a/c"), message("a/c", "3", 0));
        store().put(TopicName.of("$app/x"), message("$app/x", "4", 0));
        awaitPropagation(3);
        assertEquals(3, reader().size());
        assertEquals(Set.of("a/b", "a/c"), topicsMatching("a/+"));
        assertEquals(Set.of("a/b", "a/c"), topicsMatching("#"), "[MQTT-4.7.2-1] # does not match $ topics");
        assertEquals(Set.of("$app/x"), topicsMatching("$app/#"));
        List<String> payloads = new ArrayList<>();
        reader().match(TopicFilter.of("a/b"), System.currentTimeMillis(),
                m -> payloads.add(new String(m.payload(), StandardCharsets.UTF_8)));
        assertEquals(List.of("2"), payloads);
    }

    @Test
    void removedMessageIsNoLongerFound() throws Exception {
        store().put(TopicName.of("r/1"), message("r/1", "x", 0));
        awaitPropagation(1);
        store().remove(TopicName.of("r/1"));
        awaitPropagation(0);
        assertEquals(Set.of(), topicsMatching("r/#"));
    }

    @Test
    void expiredMessageIsNotReturned() throws Exception {
        store().put(TopicName.of("e/1"), message("e/1", "old", System.currentTimeMillis() - 1));
        store().put(TopicName.of("e/2"), message("e/2", "new", System.currentTimeMillis() + 60_000));
        awaitPropagation(2);
        assertEquals(Set.of("e/2"), topicsMatching("e/#"));
    }

    @Test
    void propertiesSurviveTheStore() throws Exception {
        store().put(TopicName.of("p/1"), message("p/1", "x", 0));
        awaitPropagation(1);
        List<Message> found = new ArrayList<>();
        reader().match(TopicFilter.of("p/1"), System.currentTimeMillis(), found::add);
        assertEquals(1, found.size());
        assertEquals("text/plain", found.get(0).properties().contentType);
        assertEquals("v", found.get(0).properties().userProperties.get(0).value());
    }
}
