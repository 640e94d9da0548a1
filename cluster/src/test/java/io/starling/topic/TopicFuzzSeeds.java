package io.starling.topic;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the seed corpus of {@link TopicFuzzTest}: the examples of MQTT 5.0 section 4.7 and 4.8.2,
 * '$' topics, shared subscriptions, invalid filters, lone surrogates and U+0000. Run by
 * {@code ./fuzz seeds}; only {@code seed-*} files are replaced, so kept crash inputs stay.
 */
public final class TopicFuzzSeeds {
    private TopicFuzzSeeds() {
    }

    /** @param args the test resources directory, e.g. cluster/src/test/resources */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources")
                .resolve("io/starling/topic/TopicFuzzTestInputs/namesAndFilters");
        Files.createDirectories(dir);
        try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "seed-*")) {
            for (Path p : old) {
                Files.delete(p);
            }
        }
        Map<String, byte[]> seeds = seeds();
        for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
            Files.write(dir.resolve("seed-" + e.getKey()), e.getValue());
        }
        System.out.println("TopicFuzzSeeds: wrote " + seeds.size() + " seed files under " + dir);
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        // 4.7.1.2 multi-level wildcard
        s.put("hash-parent", pair("sport/tennis/player1/#", "sport/tennis/player1"));
        s.put("hash-child", pair("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
        s.put("hash-grandchild", pair("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
        s.put("hash-sport", pair("sport/#", "sport"));
        s.put("hash-in-level", pair("sport/tennis#", "sport/tennis#"));
        s.put("hash-not-last", pair("sport/tennis/#/ranking", "sport/tennis/x/ranking"));
        // 4.7.1.3 single-level wildcard
        s.put("plus-one", pair("sport/tennis/+", "sport/tennis/player1"));
        s.put("plus-two", pair("sport/tennis/+", "sport/tennis/player1/ranking"));
        s.put("plus-parent", pair("sport/+", "sport"));
        s.put("plus-empty", pair("sport/+", "sport/"));
        s.put("plus-plus-finance", pair("+/+", "/finance"));
        s.put("slash-plus-finance", pair("/+", "/finance"));
        s.put("plus-finance", pair("+", "/finance"));
        s.put("plus-in-level", pair("sport+", "sport+"));
        s.put("plus-slash", pair("+/+", "/"));
        // 4.7.2 topics beginning with $ [MQTT-4.7.2-1]
        s.put("hash-sys", pair("#", "$SYS/uptime"));
        s.put("plus-sys", pair("+/monitor/Clients", "$SYS/monitor/Clients"));
        s.put("sys-hash", pair("$SYS/#", "$SYS/monitor/Clients"));
        s.put("sys-plus", pair("$SYS/monitor/+", "$SYS/monitor/Clients"));
        s.put("dollar-alone", pair("+", "$"));
        // 4.7.3 topic semantics
        s.put("empty-levels", pair("a//b", "a//b"));
        s.put("slash", pair("/", "/"));
        s.put("spaces", pair("Accounts payable", "Accounts payable"));
        s.put("case", pair("ACCOUNTS", "Accounts"));
        s.put("multibyte", pair("日本/+/é", "日本/東京/é"));
        s.put("supplementary", pair("\uD83D\uDE00/#", "\uD83D\uDE00/a"));
        s.put("empty", pair("", ""));
        // 4.8.2 shared subscriptions
        s.put("share", pair("$share/consumer1/sport/tennis/+", "sport/tennis/player1"));
        s.put("share-hash-sys", pair("$share/g/#", "$SYS/x"));
        s.put("share-empty-name", pair("$share//a", "a"));
        s.put("share-no-filter", pair("$share/g", "g"));
        s.put("share-empty-filter", pair("$share/g/", "g"));
        s.put("share-wildcard-name", pair("$share/g+/a", "a"));
        s.put("shared-not-share", pair("$shared/x", "$shared/x"));
        s.put("share-alone", pair("$share", "$share"));
        // names derived from filters
        s.put("derive-plus-hash", new FuzzInput().consumedInt(1, 0, 1).consumedString("sport/+/player1/#").consumedInt(0, 0, TopicFuzzTest.MAX_KIND)
                .consumedString("tennis").consumedInt(2, 0, TopicFuzzTest.MAX_HASH_LEVELS).consumedString("score")
                .consumedString("wimbledon").build());
        s.put("derive-hash-parent", new FuzzInput().consumedInt(1, 0, 1).consumedString("+/#").consumedInt(0, 0, TopicFuzzTest.MAX_KIND)
                .consumedString("a").consumedInt(0, 0, TopicFuzzTest.MAX_HASH_LEVELS).build());
        s.put("derive-share", new FuzzInput().consumedInt(1, 0, 1).consumedString("$share/g/+/b").consumedInt(0, 0, TopicFuzzTest.MAX_KIND)
                .consumedString("").build());
        // damage: a lone surrogate [MQTT-1.5.4-1], U+0000 [MQTT-4.7.3-2]
        s.put("lone-high", damaged("a/b", 1, 1));
        s.put("lone-low", damaged("a/b", 2, 3));
        s.put("nul", damaged("a/b", 3, 2));
        return s;
    }

    private static byte[] pair(String filter, String name) {
        return new FuzzInput().consumedInt(0, 0, 1).consumedString(filter).consumedInt(0, 0, TopicFuzzTest.MAX_KIND)
                .consumedString(name).consumedInt(0, 0, TopicFuzzTest.MAX_KIND).build();
    }

    /** The same damaged string as filter and as name. */
    private static byte[] damaged(String s, int kind, int at) {
        FuzzInput in = new FuzzInput().consumedInt(0, 0, 1);
        for (int k = 0; k < 2; k++) {
            in.consumedString(s).consumedInt(kind, 0, TopicFuzzTest.MAX_KIND).consumedInt(at, 0, s.length());
        }
        return in.build();
    }
}
