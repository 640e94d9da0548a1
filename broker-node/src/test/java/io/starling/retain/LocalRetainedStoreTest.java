package io.starling.retain;

class LocalRetainedStoreTest extends RetainedStoreContract {
    private final LocalRetainedStore store = new LocalRetainedStore();

    @Override
    RetainedStore store() {
        return store;
    }
}
