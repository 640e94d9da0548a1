package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdoptionShareTest {
    private static final List<String> NODES = List.of("node-3f2a91c0", "node-8b77e012", "node-c01d5e9a", "node-5e6f7a8b");

    @Test
    void everyNodeComputesTheSameAdopterWhateverOrderItListsTheMembersIn() {
        List<String> reversed = new ArrayList<>(NODES);
        java.util.Collections.reverse(reversed);
        for (int i = 0; i < 10_000; i++) {
            String id = "device-" + i;
            assertEquals(AdoptionShare.adopter(id, NODES), AdoptionShare.adopter(id, reversed), id);
        }
    }

    @Test
    void sharesAreAboutEqual() {
        Map<String, Integer> counts = new HashMap<>();
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            counts.merge(AdoptionShare.adopter("fo-sub-" + i + "-a5401cbe", NODES), 1, Integer::sum);
        }
        assertEquals(NODES.size(), counts.size());
        counts.forEach((node, c) -> assertTrue(Math.abs(c - n / NODES.size()) < n / NODES.size() / 10,
                node + " got " + c + " of " + n));
    }

    @Test
    void whenANodeGoesOnlyItsShareMoves() {
        List<String> fewer = NODES.subList(0, 3);
        for (int i = 0; i < 10_000; i++) {
            String id = "device-" + i;
            String before = AdoptionShare.adopter(id, NODES);
            if (fewer.contains(before)) {
                assertEquals(before, AdoptionShare.adopter(id, fewer), id);
            }
        }
    }
}
