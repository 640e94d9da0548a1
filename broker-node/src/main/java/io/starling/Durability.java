package io.starling;

import io.micrometer.core.instrument.MeterRegistry;
import io.starling.config.BrokerConfig;
import io.starling.persistence.DurableStore;
import io.starling.persistence.GroupCommit;
import io.starling.persistence.PersistenceMode;
import java.nio.file.Path;

/** A node's durable store and its one writer, as persistence.* configures them (docs/adr/0016). */
record Durability(DurableStore store, GroupCommit commit) {
    /** Opens the store, or returns null with persistence.mode none; a store that cannot be used throws. */
    static Durability open(BrokerConfig.Persistence p, MeterRegistry registry) {
        if (!p.enabled()) {
            return null;
        }
        DurableStore store = DurableStore.open(Path.of(p.dir()));
        org.slf4j.LoggerFactory.getLogger(Durability.class).info("store: {} in {} (persistence.mode {})",
                store.sizeBytes() == 0 ? "new" : store.sizeBytes() + " bytes", store.dir(), p.mode());
        return new Durability(store, new GroupCommit(store, PersistenceMode.of(p.mode()), p.batchRecords(),
                p.intervalMillis(), registry, System::currentTimeMillis));
    }

    void close() {
        commit.close();
        store.close();
    }
}
