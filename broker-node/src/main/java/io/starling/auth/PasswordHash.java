package io.starling.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * One password hash of a Mosquitto password file, in the three forms Mosquitto writes:
 * {@code $6$salt$hash} (salted SHA-512, Mosquitto 1.6), {@code $7$iterations$salt$hash}
 * (PBKDF2-HMAC-SHA512, Mosquitto 2.0's default) and a PHC {@code $argon2id$v=19$m=..,t=..,p=..$salt$hash}
 * string (Mosquitto 2.1). Salts and hashes are standard Base64 with padding in the first two,
 * unpadded in the PHC string.
 *
 * <p>A password is bytes, not characters: MQTT carries it as Binary Data (spec 3.1.3.5), and
 * Mosquitto hashes it as a C string, so only the bytes before the first NUL count. Bouncy Castle's
 * byte-oriented generators are used for that reason: the JDK's PBKDF2 takes {@code char[]} and
 * would re-encode it. Comparisons take constant time.
 */
public sealed interface PasswordHash {
    /** The bytes Mosquitto hashes: those before the first NUL, where its C string ends. */
    static byte[] significant(byte[] password) {
        for (int i = 0; i < password.length; i++) {
            if (password[i] == 0) {
                return Arrays.copyOf(password, i);
            }
        }
        return password;
    }

    /** True when {@code password} (the CONNECT's bytes) is the one this hash was made from. */
    boolean matches(byte[] password);

    /** The hash as it is written in the file. */
    String encoded();

    /**
     * Reads a hash as it appears after {@code username:} in a password file (Base64 with or without padding).
     *
     * @throws IllegalArgumentException naming what is wrong (never the hash itself)
     */
    static PasswordHash parse(String s) {
        if (s.startsWith("$argon2id$")) {
            return Argon2id.parse(s);
        }
        String[] f = s.split("\\$", -1);
        if (f.length == 4 && f[0].isEmpty() && f[1].equals("6")) {
            return new Sha512(decode(f[2], "salt"), decode(f[3], "hash"));
        }
        if (f.length == 5 && f[0].isEmpty() && f[1].equals("7")) {
            int iterations;
            try {
                iterations = Integer.parseInt(f[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("PBKDF2 iteration count is not a number");
            }
            if (iterations < 1) {
                throw new IllegalArgumentException("PBKDF2 iteration count below 1");
            }
            return new Pbkdf2Sha512(iterations, decode(f[3], "salt"), decode(f[4], "hash"));
        }
        throw new IllegalArgumentException("not a $6$, $7$ or $argon2id$ hash");
    }

    private static byte[] decode(String b64, String what) { // the JDK decoder takes both padded and unpadded
        try {
            byte[] b = Base64.getDecoder().decode(b64);
            if (b.length == 0) {
                throw new IllegalArgumentException("empty " + what);
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not Base64");
        }
    }

    /** {@code $6$}: SHA-512 over the password then the salt, as Mosquitto 1.6 wrote. */
    record Sha512(byte[] salt, byte[] hash) implements PasswordHash {
        static Sha512 of(byte[] password, SecureRandom random) {
            byte[] salt = new byte[Pbkdf2Sha512.SALT_BYTES];
            random.nextBytes(salt);
            return new Sha512(salt, digest(password, salt));
        }

        private static byte[] digest(byte[] password, byte[] salt) {
            try {
                MessageDigest d = MessageDigest.getInstance("SHA-512");
                d.update(significant(password));
                d.update(salt);
                return d.digest();
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-512 is in every JDK", e);
            }
        }

        @Override
        public boolean matches(byte[] password) {
            return MessageDigest.isEqual(digest(password, salt), hash);
        }

        @Override
        public String encoded() {
            return "$6$" + Base64.getEncoder().encodeToString(salt) + "$" + Base64.getEncoder().encodeToString(hash);
        }
    }

    /** {@code $7$}: PBKDF2-HMAC-SHA512 with the hash's own length (64 bytes from mosquitto_passwd). */
    record Pbkdf2Sha512(int iterations, byte[] salt, byte[] hash) implements PasswordHash {
        /** mosquitto_passwd's defaults: 101 iterations, 12 bytes of salt. */
        public static final int DEFAULT_ITERATIONS = 101;
        static final int SALT_BYTES = 12;

        static Pbkdf2Sha512 of(byte[] password, int iterations, SecureRandom random) {
            byte[] salt = new byte[SALT_BYTES];
            random.nextBytes(salt);
            return new Pbkdf2Sha512(iterations, salt, derive(significant(password), salt, iterations, 64));
        }

        private static byte[] derive(byte[] password, byte[] salt, int iterations, int length) {
            PKCS5S2ParametersGenerator g = new PKCS5S2ParametersGenerator(new SHA512Digest());
            g.init(password, salt, iterations);
            return ((KeyParameter) g.generateDerivedParameters(length * 8)).getKey();
        }

        @Override
        public boolean matches(byte[] password) {
            return MessageDigest.isEqual(derive(significant(password), salt, iterations, hash.length), hash);
        }

        @Override
        public String encoded() {
            return "$7$" + iterations + "$" + Base64.getEncoder().encodeToString(salt) + "$"
                    + Base64.getEncoder().encodeToString(hash);
        }
    }

    /** A PHC string of Argon2id, as libargon2 (and so Mosquitto 2.1) writes it. */
    record Argon2id(int version, int memoryKiB, int iterations, int parallelism, byte[] salt, byte[] hash)
            implements PasswordHash {
        /** What starling-passwd writes by default: OWASP's first recommended set (19 MiB, 2 passes, 1 lane). */
        public static final int DEFAULT_MEMORY_KIB = 19_456;
        public static final int DEFAULT_ITERATIONS = 2;
        static final int SALT_BYTES = 16;
        static final int HASH_BYTES = 32;
        /** Bounds on what a file may ask for, so a hostile file cannot make one check take gigabytes. */
        static final int MAX_MEMORY_KIB = 1 << 20;
        static final int MAX_ITERATIONS = 64;

        static Argon2id of(byte[] password, int memoryKiB, int iterations, SecureRandom random) {
            byte[] salt = new byte[SALT_BYTES];
            random.nextBytes(salt);
            int v = Argon2Parameters.ARGON2_VERSION_13;
            return new Argon2id(v, memoryKiB, iterations, 1, salt,
                    derive(significant(password), v, memoryKiB, iterations, 1, salt, HASH_BYTES));
        }

        static Argon2id parse(String s) {
            // $argon2id$v=19$m=19456,t=2,p=1$salt$hash (a PHC string without the version is version 0x10)
            String[] f = s.split("\\$", -1);
            int i = 2;
            int version = Argon2Parameters.ARGON2_VERSION_10;
            if (f.length == 6) {
                version = number(f[i++], "v=");
            } else if (f.length != 5) {
                throw new IllegalArgumentException("not an Argon2id PHC string");
            }
            String[] params = f[i++].split(",", -1);
            if (params.length != 3) {
                throw new IllegalArgumentException("Argon2id parameters are not m=..,t=..,p=..");
            }
            int m = number(params[0], "m=");
            int t = number(params[1], "t=");
            int p = number(params[2], "p=");
            if (version != Argon2Parameters.ARGON2_VERSION_10 && version != Argon2Parameters.ARGON2_VERSION_13) {
                throw new IllegalArgumentException("unknown Argon2 version " + version);
            }
            if (m < 8 * p || m > MAX_MEMORY_KIB || t < 1 || t > MAX_ITERATIONS || p < 1 || p > 16) {
                throw new IllegalArgumentException("Argon2id parameters out of range");
            }
            byte[] salt = decode(f[i++], "salt");
            byte[] hash = decode(f[i], "hash");
            return new Argon2id(version, m, t, p, salt, hash);
        }

        private static int number(String field, String prefix) {
            if (!field.startsWith(prefix)) {
                throw new IllegalArgumentException("expected " + prefix + " in the Argon2id string");
            }
            try {
                return Integer.parseInt(field.substring(prefix.length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(prefix + " is not a number");
            }
        }

        private static byte[] derive(byte[] password, int version, int memoryKiB, int iterations, int parallelism,
                                     byte[] salt, int length) {
            Argon2BytesGenerator g = new Argon2BytesGenerator();
            g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(version)
                    .withMemoryAsKB(memoryKiB).withIterations(iterations).withParallelism(parallelism)
                    .withSalt(salt).build());
            byte[] out = new byte[length];
            g.generateBytes(password, out);
            return out;
        }

        @Override
        public boolean matches(byte[] password) {
            return MessageDigest.isEqual(derive(significant(password), version, memoryKiB, iterations, parallelism,
                    salt, hash.length), hash);
        }

        @Override
        public String encoded() {
            Base64.Encoder e = Base64.getEncoder().withoutPadding();
            return "$argon2id$v=" + version + "$m=" + memoryKiB + ",t=" + iterations + ",p=" + parallelism + "$"
                    + e.encodeToString(salt) + "$" + e.encodeToString(hash);
        }
    }

    /** A UTF-8 password from a command line or a test, as the bytes a client would send. */
    static byte[] utf8(String password) {
        return password.getBytes(StandardCharsets.UTF_8);
    }
}
