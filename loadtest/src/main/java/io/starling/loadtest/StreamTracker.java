package io.starling.loadtest;

/**
 * The set of sequence numbers received on one stream (one publisher's messages as seen by one
 * receiver, or by a whole shared-subscription group), and how many arrived more than once.
 *
 * <p>A bitmap, one bit per sequence, that forgets its fully-received prefix: words below
 * {@code wordOffset} are all ones and are dropped, so an in-order stream holds a couple of words
 * however long it runs, and a stream with gaps holds one bit per sequence from its oldest gap on.
 * Synchronized because the members of a shared group record from different event loops; the lock
 * is uncontended in every other scenario.
 */
public final class StreamTracker {
    private long[] words = new long[1];
    /** words[0] covers sequences [wordOffset * 64, wordOffset * 64 + 64). */
    private long wordOffset;
    private long distinct;
    private long duplicates;

    /** @return true when the sequence is new to this stream, false when it is a duplicate */
    public synchronized boolean add(long sequence) {
        if (sequence < 0) {
            throw new IllegalArgumentException("negative sequence " + sequence);
        }
        long word = sequence >>> 6;
        if (word < wordOffset) {
            duplicates++;
            return false;
        }
        long index = word - wordOffset;
        if (index >= words.length) {
            grow(index);
        }
        int i = (int) index;
        long bit = 1L << (sequence & 63);
        if ((words[i] & bit) != 0) {
            duplicates++;
            return false;
        }
        words[i] |= bit;
        distinct++;
        if (i == 0 && words[0] == -1L) {
            dropFullPrefix();
        }
        return true;
    }

    private void grow(long index) {
        if (index >= Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("sequence gap too large to track: " + index * 64);
        }
        int size = (int) Math.max(index + 1, Math.min((long) words.length * 2, Integer.MAX_VALUE - 8));
        long[] w = new long[size];
        System.arraycopy(words, 0, w, 0, words.length);
        words = w;
    }

    private void dropFullPrefix() {
        int full = 0;
        while (full < words.length && words[full] == -1L) {
            full++;
        }
        System.arraycopy(words, full, words, 0, words.length - full);
        java.util.Arrays.fill(words, words.length - full, words.length, 0L);
        wordOffset += full;
        if (words.length > 64 && full > words.length / 2) {
            // A gap was closed: give back the memory it held.
            words = java.util.Arrays.copyOf(words, Math.max(1, words.length / 2));
        }
    }

    public synchronized boolean contains(long sequence) {
        long word = sequence >>> 6;
        if (word < wordOffset) {
            return true;
        }
        long index = word - wordOffset;
        return index < words.length && (words[(int) index] & (1L << (sequence & 63))) != 0;
    }

    /** Sequences received at least once. */
    public synchronized long distinct() {
        return distinct;
    }

    /** Receipts of a sequence already received. */
    public synchronized long duplicates() {
        return duplicates;
    }

    /**
     * Sequences 0..sent-1 never received. Every sequence below {@code sent} was published, and
     * publishers number from 0 without gaps, so this is sent minus the distinct sequences seen
     * below it.
     */
    public synchronized long lost(long sent) {
        long missing = 0;
        long firstTracked = wordOffset * 64;
        for (long s = firstTracked; s < sent; s++) {
            long index = (s >>> 6) - wordOffset;
            if (index >= words.length) {
                missing += sent - s;
                break;
            }
            if ((words[(int) index] & (1L << (s & 63))) == 0) {
                missing++;
            }
        }
        return missing;
    }
}
