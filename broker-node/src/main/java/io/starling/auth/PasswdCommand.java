package io.starling.auth;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code starling-passwd} ({@code java -jar starling-broker.jar passwd ...}): Mosquitto's
 * {@code mosquitto_passwd} with the same options, writing Argon2id by default ({@code -H
 * sha512-pbkdf2} writes Mosquitto 2.0's {@code $7$}, readable by every Mosquitto since 2.0).
 * Other lines of the file are kept as they are; the file is replaced atomically.
 */
public final class PasswdCommand {
    static final String USAGE = """
            starling-passwd manages password files for Starling (Mosquitto's format).

            Usage: starling-passwd [-H argon2id | sha512-pbkdf2 | sha512] [-I iterations] [-c | -D] passwordfile username
                   starling-passwd [-H argon2id | sha512-pbkdf2 | sha512] [-I iterations] [-c] -b passwordfile username password
                   starling-passwd -U passwordfile
             -b : batch mode: the password is taken from the command line.
             -c : create a new password file, overwriting an existing one.
             -D : delete the username rather than adding or updating its password.
             -H : the hash: argon2id (default), sha512-pbkdf2 (Mosquitto 2.0's default) or sha512 (1.6).
             -I : iterations: PBKDF2 rounds (default 101) or Argon2id passes (default 2).
             -U : hash every plain-text password of a file (lines already hashed are kept).
            """;

    private final PrintStream out;
    private final PrintStream err;
    /** Asks for a password (interactive mode): the prompt, then the answer or null. */
    private final Function<String, char[]> prompt;
    private final SecureRandom random = new SecureRandom();

    PasswdCommand(PrintStream out, PrintStream err, Function<String, char[]> prompt) {
        this.out = out;
        this.err = err;
        this.prompt = prompt;
    }

    public static void main(String[] args) {
        java.io.Console console = System.console();
        int code = new PasswdCommand(System.out, System.err,
                p -> console == null ? null : console.readPassword("%s", p)).run(args);
        System.exit(code);
    }

    int run(String[] args) {
        String hash = "argon2id";
        Integer iterations = null;
        boolean create = false;
        boolean delete = false;
        boolean batch = false;
        boolean update = false;
        int i = 0;
        for (; i < args.length && args[i].startsWith("-"); i++) {
            switch (args[i]) {
                case "-H" -> {
                    if (++i >= args.length) {
                        return usage("-H needs a hash name");
                    }
                    hash = args[i];
                    if (!List.of("argon2id", "sha512-pbkdf2", "sha512").contains(hash)) {
                        return usage("unknown hash '" + hash + "'");
                    }
                }
                case "-I" -> {
                    if (++i >= args.length) {
                        return usage("-I needs a number");
                    }
                    try {
                        iterations = Integer.parseInt(args[i]);
                    } catch (NumberFormatException e) {
                        return usage("-I needs a number");
                    }
                    if (iterations < 1) {
                        return usage("-I needs a number of at least 1");
                    }
                }
                case "-c" -> create = true;
                case "-D" -> delete = true;
                case "-b" -> batch = true;
                case "-U" -> update = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> {
                    return usage("unknown option " + args[i]);
                }
            }
        }
        List<String> rest = List.of(args).subList(i, args.length);
        if (create && delete) {
            return usage("-c with -D makes no sense");
        }
        try {
            if (update) {
                if (rest.size() != 1 || create || delete || batch) {
                    return usage("-U takes a password file and nothing else");
                }
                return hashPlainText(Path.of(rest.get(0)), hash, iterations);
            }
            int expected = batch ? 3 : 2;
            if (rest.size() != expected || (batch && delete)) {
                return usage(null);
            }
            Path file = Path.of(rest.get(0));
            String user = rest.get(1);
            if (user.indexOf(':') >= 0) {
                err.println("Error: Username must not contain the ':' character.");
                return 1;
            }
            if (user.isEmpty() || user.strip().length() != user.length()) {
                err.println("Error: Username must not be empty nor start or end with a blank.");
                return 1;
            }
            if (delete) {
                return deleteUser(file, user);
            }
            char[] password = batch ? rest.get(2).toCharArray() : ask();
            if (password == null) {
                return 1;
            }
            String line = user + ":" + make(new String(password).getBytes(StandardCharsets.UTF_8), hash, iterations)
                    .encoded();
            java.util.Arrays.fill(password, '\0');
            List<String> lines = create || !Files.exists(file) ? new ArrayList<>() : lines(file);
            if (!create && !Files.exists(file)) {
                err.println("Error: Unable to open file " + file + " for reading (use -c to create it).");
                return 1;
            }
            boolean replaced = false;
            for (int n = 0; n < lines.size(); n++) {
                if (userOf(lines.get(n)).equals(user)) {
                    lines.set(n, line);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) {
                lines.add(line);
            }
            write(file, lines);
            return 0;
        } catch (IOException e) {
            err.println("Error: " + e.getMessage());
            return 1;
        }
    }

    private char[] ask() {
        char[] first = prompt.apply("Password: ");
        if (first == null) {
            err.println("Error: no terminal to read the password from (use -b).");
            return null;
        }
        char[] again = prompt.apply("Reenter password: ");
        if (again == null || !java.util.Arrays.equals(first, again)) {
            err.println("Error: Passwords do not match.");
            return null;
        }
        if (first.length == 0) {
            err.println("Error: Empty password.");
            return null;
        }
        return first;
    }

    PasswordHash make(byte[] password, String hash, Integer iterations) {
        return switch (hash) {
            case "sha512-pbkdf2" -> PasswordHash.Pbkdf2Sha512.of(password,
                    iterations == null ? PasswordHash.Pbkdf2Sha512.DEFAULT_ITERATIONS : iterations, random);
            case "sha512" -> PasswordHash.Sha512.of(password, random);
            default -> PasswordHash.Argon2id.of(password, PasswordHash.Argon2id.DEFAULT_MEMORY_KIB,
                    iterations == null ? PasswordHash.Argon2id.DEFAULT_ITERATIONS : iterations, random);
        };
    }

    private int deleteUser(Path file, String user) throws IOException {
        if (!Files.exists(file)) {
            err.println("Error: Unable to open file " + file + " for reading.");
            return 1;
        }
        List<String> lines = lines(file);
        if (!lines.removeIf(l -> userOf(l).equals(user))) {
            err.println("Warning: User " + user + " not found in password file.");
            return 1;
        }
        write(file, lines);
        return 0;
    }

    private int hashPlainText(Path file, String hash, Integer iterations) throws IOException {
        List<String> lines = lines(file);
        int hashed = 0;
        for (int n = 0; n < lines.size(); n++) {
            String l = lines.get(n);
            int colon = l.indexOf(':');
            if (l.startsWith("#") || colon < 0) {
                continue;
            }
            String value = l.substring(colon + 1).strip();
            try {
                PasswordHash.parse(value);
                continue; // hashed already: hashing a hash would lock its user out
            } catch (IllegalArgumentException plain) {
                // a plain-text password
            }
            lines.set(n, l.substring(0, colon).strip() + ":"
                    + make(value.getBytes(StandardCharsets.UTF_8), hash, iterations).encoded());
            hashed++;
        }
        write(file, lines);
        out.println(hashed + " password(s) hashed.");
        return 0;
    }

    private static String userOf(String line) {
        int colon = line.indexOf(':');
        return line.startsWith("#") || colon < 0 ? "\0" : line.substring(0, colon).strip();
    }

    private static List<String> lines(Path file) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    /** Written beside the file and moved over it, so a broker reloading it never reads half a file. */
    private static void write(Path file, List<String> lines) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, lines.isEmpty() ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException notPosix) {
                // kept as created
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private int usage(String problem) {
        if (problem != null) {
            err.println("Error: " + problem);
        }
        err.print(USAGE);
        return 1;
    }
}
