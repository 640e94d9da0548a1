package io.starling.persistence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Damage done to a store's files on purpose, as a failing disk or a bad copy would: for the refusal tests. */
public final class StoreDamage {
    private StoreDamage() {
    }

    /** Flips {@code bytes} bytes, chosen by {@code seed}, in the middle of the store's largest table file. */
    public static Path flipBytesInLargestTable(Path store, long seed, int bytes) throws IOException {
        Path sst;
        try (var files = Files.list(store)) {
            sst = files.filter(p -> p.toString().endsWith(".sst")).max((a, b) -> Long.compare(a.toFile().length(),
                    b.toFile().length())).orElseThrow(() -> new AssertionError("no table file in " + store));
        }
        byte[] content = Files.readAllBytes(sst);
        Random r = new Random(seed);
        for (int i = 0; i < bytes; i++) {
            content[content.length / 4 + r.nextInt(content.length / 2)] ^= (byte) 0xff;
        }
        Files.write(sst, content);
        return sst;
    }
}
