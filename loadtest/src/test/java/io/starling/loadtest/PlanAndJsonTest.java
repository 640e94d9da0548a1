package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanAndJsonTest {

    @Test
    void p2pHasOneTopicPerPairAndCapsSumToMessages() throws Exception {
        Options o = Options.parse("p2p", "--clients", "3", "--messages", "10", "--hosts", "a:1,b:2");
        Plan plan = Plan.of(o, "abc123");
        assertEquals(3, plan.publishers().size());
        Set<String> topics = new HashSet<>();
        long caps = 0;
        for (int i = 0; i < 3; i++) {
            Plan.PublisherSpec p = plan.publishers().get(i);
            Plan.SubscriberSpec s = plan.subscribers().get(i);
            assertEquals(p.topic(), s.filters().get(0));
            assertEquals(i, s.publishers()[0]);
            assertEquals(p.host(), s.host()); // both ends of a pair on the same node
            topics.add(p.topic());
            caps += p.cap();
            assertTrue(p.clientId().length() <= 23, p.clientId());
        }
        assertEquals(3, topics.size());
        assertEquals(10, caps);
        assertEquals("a", plan.publishers().get(0).host().host());
        assertEquals("b", plan.publishers().get(1).host().host());
    }

    @Test
    void crossNodePublishesOnFirstAndSubscribesOnLastWithAReferenceOnFirst() throws Exception {
        Plan plan = Plan.of(Options.parse("cross-node", "--clients", "4", "--hosts", "a:1,b:2,c:3"), "r");
        plan.publishers().forEach(p -> assertEquals("a", p.host().host()));
        assertEquals(8, plan.subscribers().size());
        for (Plan.PublisherSpec p : plan.publishers()) {
            // Each message goes to one subscriber on the last node and one (the reference) on the publisher's.
            java.util.List<Plan.SubscriberSpec> mine = plan.subscribers().stream()
                    .filter(s -> s.filters().equals(java.util.List.of(p.topic()))).toList();
            assertEquals(2, mine.size());
            assertEquals(1, mine.stream().filter(s -> !s.reference() && s.host().host().equals("c")).count());
            assertEquals(1, mine.stream().filter(s -> s.reference() && s.host().host().equals("a")).count());
        }
    }

    @Test
    void sharedAndFanInFilters() throws Exception {
        Plan shared = Plan.of(Options.parse("shared", "--clients", "3", "--publishers", "2"), "r1");
        assertTrue(shared.sharedGroup());
        assertTrue(shared.subscribers().get(0).filters().get(0).startsWith("$share/ltr1/"));
        assertEquals(2, shared.subscribers().get(2).publishers().length);
        Plan fanIn = Plan.of(Options.parse("fan-in", "--clients", "5", "--topics", "2"), "r2");
        assertEquals(1, fanIn.subscribers().size());
        assertEquals(2, fanIn.subscribers().get(0).filters().size());
        assertEquals(fanIn.publishers().get(0).topic(), fanIn.publishers().get(2).topic());
    }

    @Test
    void jsonIsFlatAndEscaped() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\n");
        m.put("n", 5L);
        m.put("d", 1.5);
        m.put("nan", Double.NaN);
        m.put("b", true);
        assertEquals("{\n  \"s\": \"a\\\"b\\\\c\\n\",\n  \"n\": 5,\n  \"d\": 1.500,\n  \"nan\": 0,\n  \"b\": true\n}\n",
                JsonWriter.object(m));
    }
}
