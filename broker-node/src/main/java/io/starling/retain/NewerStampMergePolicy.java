package io.starling.retain;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;

/**
 * Merges the retained map of the two sides of a healed partition by the same rule as every write
 * ({@link Retained#supersedes}): the value with the newer stamp wins, a tombstone included.
 * Hazelcast's {@code LatestUpdateMergePolicy} is not the same order: it compares when each
 * side's partition owner stored its entry, by that owner's clock, which is neither the writer's
 * clock nor the order in which the stamps put the writes; nodes that then reload by stamp would
 * disagree with the map. The default {@code PutIfAbsentMergePolicy} keeps the larger side's value
 * whatever its age.
 */
public final class NewerStampMergePolicy implements SplitBrainMergePolicy<byte[], MergingValue<byte[]>, Object> {
    /** For Hazelcast, which creates the policy from its class name. */
    public NewerStampMergePolicy() {
    }

    @Override
    public Object merge(MergingValue<byte[]> merging, MergingValue<byte[]> existing) {
        if (existing == null) {
            return merging == null ? null : merging.getRawValue();
        }
        if (merging == null) {
            return existing.getRawValue();
        }
        return Retained.supersedes(merging.getDeserializedValue(), existing.getDeserializedValue())
                ? merging.getRawValue() : existing.getRawValue();
    }

    @Override
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }
}
