package io.starling.persistence;

/**
 * A store that cannot be used as it is: of another format version, failing a checksum, or refused
 * by RocksDB. Start-up stops with its message (which names the directory and what to do) rather
 * than run as an empty broker.
 */
public final class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
