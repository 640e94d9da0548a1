package io.starling.auth;

import io.starling.config.BrokerConfig;
import io.starling.config.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The authenticator a node's configuration asks for. */
public final class Authentication {
    private static final Logger log = LoggerFactory.getLogger(Authentication.class);

    private Authentication() {
    }

    /**
     * The node's password check, or null without a password file (each listener then decides by
     * certificates and anonymity alone: {@link ListenerAuthenticator}).
     *
     * @throws ConfigException when the password file cannot be read; a line it cannot use is
     *         logged with its number and costs that user alone, as in Mosquitto
     */
    public static Authenticator forConfig(BrokerConfig config) {
        if (!config.authenticates()) {
            return null;
        }
        PasswordFile file = read(Path.of(config.authPasswordFile()));
        return new PasswordFileAuthenticator(file, Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    }

    /** Reads and logs a password file's problems; fails only when it cannot be read at all. */
    public static PasswordFile read(Path path) {
        try {
            PasswordFile f = PasswordFile.read(path);
            for (PasswordFile.Problem p : f.problems()) {
                log.warn("password file {}, {}; that line is ignored", path, p);
            }
            log.info("password file {}: {} users", path, f.size());
            return f;
        } catch (IOException e) {
            throw new ConfigException("configuration key 'auth.password-file': cannot read " + path + ": " + e);
        }
    }
}
