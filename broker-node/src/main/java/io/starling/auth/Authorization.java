package io.starling.auth;

import io.starling.config.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's ACL file, if any, and what each client may do by it. Without a file every client may
 * do everything (as Mosquitto without {@code acl_file}); with one, what it does not allow is
 * denied. A reload replaces the file for the clients' next checks ({@link #forClient} again).
 */
public final class Authorization {
    private static final Logger log = LoggerFactory.getLogger(Authorization.class);

    private final Path path;
    private volatile AclFile file;

    private Authorization(Path path, AclFile file) {
        this.path = path;
        this.file = file;
    }

    public static Authorization none() {
        return new Authorization(null, null);
    }

    /** @throws ConfigException naming the file and its bad line */
    public static Authorization of(Path path) {
        try {
            return new Authorization(path, read(path));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("configuration key 'auth.acl-file': " + path + ": " + e.getMessage());
        }
    }

    private static AclFile read(Path path) throws IOException {
        AclFile f = AclFile.read(path);
        log.info("ACL file {}: {} rules, {} users", path, f.size(), f.userCount());
        return f;
    }

    /** Reads the file again; a file that cannot be used is logged and the rules in force are kept. */
    public void reload() {
        try {
            file = read(path);
        } catch (IOException | IllegalArgumentException e) {
            log.error("ACL file {} changed but cannot be used ({}); the rules read before stay in force", path,
                    e.getMessage());
        }
    }

    public Path path() {
        return path;
    }

    public Acl forClient(String username, String clientId) {
        AclFile f = file;
        return f == null ? Acl.ALLOW_ALL : f.forClient(username, clientId);
    }
}
