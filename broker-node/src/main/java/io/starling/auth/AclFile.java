package io.starling.auth;

import io.starling.topic.InvalidTopicException;
import io.starling.topic.TopicFilter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Mosquitto {@code acl_file}, read as Mosquitto reads it:
 * <pre>
 * # topic lines before any user line are for anonymous clients
 * topic read public/#
 * user alice
 * topic readwrite alice/#          (access omitted: readwrite)
 * topic deny alice/secret
 * pattern write devices/%u/%c/#    (every client; %u username, %c client id)
 * </pre>
 * A topic runs to the end of its line (it may contain spaces), as in Mosquitto. A line that is
 * none of these, an unknown access word or an invalid topic filter makes the whole file invalid
 * (Mosquitto refuses to start on it too): authorization is not left half-read.
 */
public final class AclFile {
    /**
     * What a rule allows; a deny refuses what it matches before any allow is looked at. The ACL
     * file's {@code deny} denies both; a token's or a hook's rules can deny one action alone.
     */
    public enum Access {
        READ(true, false, false, false), WRITE(false, true, false, false), READWRITE(true, true, false, false),
        DENY(false, false, true, true), DENY_READ(false, false, true, false), DENY_WRITE(false, false, false, true);

        final boolean read;
        final boolean write;
        final boolean denyRead;
        final boolean denyWrite;

        Access(boolean read, boolean write, boolean denyRead, boolean denyWrite) {
            this.read = read;
            this.write = write;
            this.denyRead = denyRead;
            this.denyWrite = denyWrite;
        }
    }

    /** One line: its access and topic filter (a pattern's still with %u and %c), and its line number. */
    public record Rule(Access access, String topic, int line) {
    }

    private final List<Rule> anonymous;
    private final Map<String, List<Rule>> users;
    private final List<Rule> patterns;

    private AclFile(List<Rule> anonymous, Map<String, List<Rule>> users, List<Rule> patterns) {
        this.anonymous = anonymous;
        this.users = users;
        this.patterns = patterns;
    }

    /** @throws IllegalArgumentException naming the file's first bad line */
    public static AclFile parse(String text) {
        List<Rule> anonymous = new ArrayList<>();
        Map<String, List<Rule>> users = new HashMap<>();
        List<Rule> patterns = new ArrayList<>();
        List<Rule> current = anonymous;
        String[] lines = text.split("\r?\n", -1);
        for (int n = 1; n <= lines.length; n++) {
            String line = lines[n - 1].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] kw = line.split("\\s+", 2);
            String rest = kw.length > 1 ? kw[1].strip() : "";
            switch (kw[0]) {
                case "user" -> {
                    if (rest.isEmpty()) {
                        throw new IllegalArgumentException("line " + n + ": 'user' without a username");
                    }
                    current = users.computeIfAbsent(rest, u -> new ArrayList<>());
                }
                case "topic" -> current.add(rule(rest, n, false));
                case "pattern" -> patterns.add(rule(rest, n, true));
                default -> throw new IllegalArgumentException("line " + n + ": '" + kw[0]
                        + "' is not topic, pattern or user");
            }
        }
        return new AclFile(List.copyOf(anonymous), Map.copyOf(users), List.copyOf(patterns));
    }

    private static Rule rule(String rest, int n, boolean pattern) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("line " + n + ": no topic");
        }
        String[] parts = rest.split("\\s+", 2);
        Access access = Access.READWRITE;
        String topic = rest;
        // As Mosquitto: an access word only where a topic follows it ("topic deny" is the topic "deny").
        if (parts.length == 2) {
            switch (parts[0]) {
                case "read", "write", "readwrite", "deny" -> {
                    access = Access.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT));
                    topic = parts[1].strip();
                }
                default -> { }
            }
        }
        try {
            // A pattern is checked as it will be once %u and %c are filled in with a plain level.
            TopicFilter.of(pattern ? topic.replace("%u", "u").replace("%c", "c") : topic);
        } catch (InvalidTopicException e) {
            throw new IllegalArgumentException("line " + n + ": '" + topic + "' is not a valid topic filter: " + e.getMessage());
        }
        return new Rule(access, topic, n);
    }

    public static AclFile read(Path path) throws IOException {
        return parse(Files.readString(path, StandardCharsets.UTF_8));
    }

    /**
     * The rules that apply to one client, in the order Mosquitto looks at them: its own (the
     * anonymous ones for a client without a username), then the patterns filled in. A pattern that
     * would take a username or client id with a wildcard in it ({@code +}, {@code #}) is left out,
     * so that no client widens its own rules by its name; one with {@code %u} is left out for an
     * anonymous client.
     */
    public Acl forClient(String username, String clientId) {
        List<Rule> own = username == null ? anonymous : users.getOrDefault(username, List.of());
        List<Rule> filled = new ArrayList<>(patterns.size());
        for (Rule p : patterns) {
            String t = p.topic();
            if (t.contains("%u") && (username == null || wild(username))) {
                continue;
            }
            if (t.contains("%c") && (clientId == null || wild(clientId))) {
                continue;
            }
            t = t.replace("%u", username == null ? "" : username).replace("%c", clientId == null ? "" : clientId);
            try {
                TopicFilter.of(t);
            } catch (InvalidTopicException e) {
                continue; // a name with a '/' made it something else: not this client's rule
            }
            filled.add(new Rule(p.access(), t, p.line()));
        }
        return new Acl("auth.acl-file", own, filled);
    }

    private static boolean wild(String s) {
        return s.indexOf('+') >= 0 || s.indexOf('#') >= 0;
    }

    public int size() {
        return anonymous.size() + patterns.size() + users.values().stream().mapToInt(List::size).sum();
    }

    public int userCount() {
        return users.size();
    }
}
