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
     * The node's password check (the HTTP hook in front of JWT in front of the password file, each
     * where configured), or null with none (each listener then decides by
     * certificates and anonymity alone: {@link ListenerAuthenticator}).
     *
     * @throws ConfigException when the password file cannot be read; a line it cannot use is
     *         logged with its number and costs that user alone, as in Mosquitto
     */
    public static Authenticator forConfig(BrokerConfig config, HttpHook hook) {
        Authenticator local = local(config);
        return config.authHttp().authenticates() ? new HttpAuthenticator(hook, local) : local;
    }

    /** The node's HTTP hook, where auth.http.* asks for one, else null. */
    public static HttpHook hook(BrokerConfig config, io.vertx.core.Vertx vertx, io.starling.metrics.BrokerMetrics metrics) {
        BrokerConfig.Http h = config.authHttp();
        if (!h.authenticates() && !h.authorizes()) {
            return null;
        }
        log.info("HTTP hook: authentication {}, authorization {}, timeout {} ms, answers kept {} s, {}",
                h.authenticates() ? h.authenticateUrl() : "not asked", h.authorizes() ? h.authorizeUrl() : "not asked",
                h.timeoutMillis(), h.cacheSeconds(), h.failClosed() ? "fail-closed" : "FAIL-OPEN");
        return new HttpHook(vertx, new HttpHook.Settings(h.authenticateUrl(), h.authorizeUrl(), h.timeoutMillis(),
                h.cacheSeconds(), h.failClosed()), metrics);
    }

    /** The password file, with JWT in front of it where auth.jwt.jwks-file is set; null with neither. */
    private static Authenticator local(BrokerConfig config) {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        Authenticator passwords = config.authPasswordFile().isEmpty() ? null
                : new PasswordFileAuthenticator(read(Path.of(config.authPasswordFile())), threads);
        BrokerConfig.Jwt j = config.authJwt();
        if (!j.enabled()) {
            return passwords;
        }
        JwtAuthenticator.Settings jwt = new JwtAuthenticator.Settings(Path.of(j.jwksFile()), j.fromUsername(),
                j.usernameClaim(), j.issuer(), j.audience(), j.clockSkewSeconds(), j.aclClaim(), j.disconnectOnExpiry());
        try {
            com.nimbusds.jose.jwk.JWKSet keys = JwtAuthenticator.read(jwt.jwksFile());
            log.info("JWT keys {}: {} keys", jwt.jwksFile(), keys.getKeys().size());
            return new JwtAuthenticator(jwt, keys, passwords, threads);
        } catch (IOException | java.text.ParseException e) {
            throw new ConfigException("configuration key 'auth.jwt.jwks-file': cannot use " + jwt.jwksFile() + ": " + e.getMessage());
        }
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
