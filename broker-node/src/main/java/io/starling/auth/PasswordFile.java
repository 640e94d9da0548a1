package io.starling.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A password file in Mosquitto's format, read as Mosquitto 2.0 reads it: one {@code
 * username:hash} per line, the username and hash trimmed of blanks, lines starting with {@code #}
 * and lines without {@code :} skipped. A line Mosquitto would refuse (an empty username, no hash,
 * a hash it cannot decode, a second line for one user) is skipped with a {@link Problem} naming
 * its line, so that one bad line costs one user, never the file; the user is then unknown and
 * refused. Immutable: a reload builds a new one.
 */
public final class PasswordFile {
    /** What was wrong with one line; never carries the hash. */
    public record Problem(int line, String message) {
        @Override
        public String toString() {
            return "line " + line + ": " + message;
        }
    }

    /** The outcome of one check; the two refusals are told apart in logs and metrics, not to the client. */
    public enum Check { OK, UNKNOWN_USER, BAD_PASSWORD }

    private final Map<String, PasswordHash> users;
    private final List<Problem> problems;

    private PasswordFile(Map<String, PasswordHash> users, List<Problem> problems) {
        this.users = Collections.unmodifiableMap(users);
        this.problems = List.copyOf(problems);
    }

    public static PasswordFile read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    public static PasswordFile parse(String text) {
        Map<String, PasswordHash> users = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int n = 1; n <= lines.length; n++) {
            String line = lines[n - 1];
            if (line.startsWith("#") || line.indexOf(':') < 0) {
                continue;
            }
            int colon = line.indexOf(':');
            String user = line.substring(0, colon).strip();
            String rest = line.substring(colon + 1);
            int next = rest.indexOf(':'); // Mosquitto's strtok stops the hash at a second ':'
            String hash = (next < 0 ? rest : rest.substring(0, next)).strip();
            if (user.isEmpty()) {
                problems.add(new Problem(n, "empty username"));
            } else if (hash.isEmpty()) {
                problems.add(new Problem(n, "no password hash for user '" + user + "'"));
            } else if (users.containsKey(user)) {
                problems.add(new Problem(n, "user '" + user + "' again; the first line for it counts"));
            } else {
                try {
                    users.put(user, PasswordHash.parse(hash));
                } catch (IllegalArgumentException e) {
                    problems.add(new Problem(n, "user '" + user + "': " + e.getMessage()
                            + (hash.startsWith("$") ? "" : " (a plain-text password? hash the file with starling-passwd -U)")));
                }
            }
        }
        return new PasswordFile(users, problems);
    }

    /** Checks a CONNECT's username and password. Slow by design (the hash's cost): never on an event loop. */
    public Check check(String username, byte[] password) {
        PasswordHash h = users.get(username);
        if (h == null) {
            return Check.UNKNOWN_USER;
        }
        return h.matches(password == null ? new byte[0] : password) ? Check.OK : Check.BAD_PASSWORD;
    }

    public boolean contains(String username) {
        return users.containsKey(username);
    }

    public List<Problem> problems() {
        return problems;
    }

    public Map<String, PasswordHash> users() {
        return users;
    }

    public int size() {
        return users.size();
    }
}
