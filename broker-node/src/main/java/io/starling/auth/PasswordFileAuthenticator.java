package io.starling.auth;

import io.starling.protocol.ReasonCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Usernames and passwords from a Mosquitto password file ({@link PasswordFile}).
 *
 * <p>A hash costs milliseconds of CPU by design (Argon2id, PBKDF2), so checks never run on an
 * event loop: a bounded pool does them, and a CONNECT that finds the pool's queue full is refused
 * as Server Busy (0x89; 3.1.1: 0x03) rather than queued without bound. A reconnect storm of the
 * same devices is what a broker behind a load balancer sees after a node fails: successful checks
 * are remembered for a while, keyed by the user and a SHA-256 of the password (never the password
 * itself), so that a device that reconnects with the same password costs one fast digest.
 *
 * <p>Clients without a username are anonymous, which is the listener's to allow
 * ({@link ListenerAuthenticator}); here they are refused as Not Authorized (0x87; 3.1.1: 0x05), as
 * Mosquitto does with a password file and {@code allow_anonymous false}. A wrong password and an unknown user both answer Bad User Name
 * or Password (0x86; 3.1.1: 0x04), so the answer does not tell which users exist; the log line
 * and the rule say which it was.
 */
public final class PasswordFileAuthenticator implements Authenticator {
    /** How long a successful check is remembered. */
    static final long REMEMBER_NANOS = TimeUnit.MINUTES.toNanos(5);
    static final int REMEMBERED = 100_000;
    static final int QUEUED = 10_000;

    private final ThreadPoolExecutor pool;
    private volatile Loaded loaded;

    /** One version of the file with what was learnt from it: a reload starts both afresh. */
    private record Loaded(PasswordFile file, Map<String, Long> remembered) {
    }

    public PasswordFileAuthenticator(PasswordFile file, int threads) {
        this.loaded = loaded(file);
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
            Thread t = new Thread(r, "starling-auth-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    private static Loaded loaded(PasswordFile file) {
        return new Loaded(file, new LruMap<>(REMEMBERED));
    }

    /** A new version of the file: what was remembered of the old one goes with it. */
    public void replace(PasswordFile file) {
        loaded = loaded(file);
    }

    public PasswordFile file() {
        return loaded.file();
    }

    @Override
    public Future<Decision> authenticate(Credentials c) {
        if (c.username() == null) {
            // Anonymous clients are the listener's to let in (ListenerAuthenticator); none is in the file.
            return Future.succeededFuture(Decision.refuse(ReasonCode.NOT_AUTHORIZED, "auth.allow-anonymous",
                    "no username, and anonymous clients are not allowed"));
        }
        Loaded l = loaded;
        byte[] password = c.password() == null ? new byte[0] : c.password();
        String key = c.username() + '\0' + fingerprint(password);
        Long until;
        synchronized (l.remembered()) {
            until = l.remembered().get(key);
        }
        if (until != null && until - System.nanoTime() > 0) {
            PasswordHash h = l.file().users().get(c.username());
            return Future.succeededFuture(Decision.allow("auth.password-file", h == null ? null : h.encoded()));
        }
        Promise<Decision> decided = Promise.promise();
        try {
            pool.execute(() -> decided.complete(check(l, c.username(), password, key)));
        } catch (RejectedExecutionException busy) {
            decided.complete(Decision.refuse(ReasonCode.SERVER_BUSY, "auth.password-file",
                    QUEUED + " password checks already wait"));
        }
        return decided.future();
    }

    private static Decision check(Loaded l, String user, byte[] password, String key) {
        return switch (l.file().check(user, password)) {
            case OK -> {
                synchronized (l.remembered()) {
                    l.remembered().put(key, System.nanoTime() + REMEMBER_NANOS);
                }
                yield Decision.allow("auth.password-file", l.file().users().get(user).encoded());
            }
            case UNKNOWN_USER -> Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.password-file",
                    "user '" + user + "' is not in the password file");
            case BAD_PASSWORD -> Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.password-file",
                    "wrong password for user '" + user + "'");
        };
    }

    /** SHA-256 of the bytes that count (see {@link PasswordHash#significant}), as hex: a cache key that is not the password. */
    private static String fingerprint(byte[] password) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(PasswordHash.significant(password));
            return java.util.HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /**
     * A client stays while its user is in the file with the hash it was checked against: a user
     * removed, or whose password was changed, is disconnected and checked anew when it reconnects
     * (no password is kept in memory to check it against the new hash).
     */
    @Override
    public boolean stillAllowed(String username, String grant) {
        if (username == null) {
            return false;
        }
        PasswordHash h = loaded.file().users().get(username);
        return h != null && h.encoded().equals(grant);
    }

    public void close() {
        pool.shutdownNow();
    }
}
