package io.starling.auth;

import io.starling.auth.AclFile.Rule;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.List;

/**
 * One client's rules from an {@link AclFile}, compiled. Each group (the client's own rules, then
 * the patterns) is looked at as Mosquitto does: a deny that matches refuses, then an allow that
 * matches permits, else the next group; nothing matched means denied.
 *
 * <p>Unlike Mosquitto, a SUBSCRIBE is checked too: a filter is granted where a read rule covers
 * every topic it could match and no deny rule covers it all; a deny that covers part of it
 * (subscribing to {@code #} beside {@code topic deny secret/#}) is enforced message by message at
 * delivery, which checks every message's topic against the reader's rules.
 */
public final class Acl {
    /** The decision where no ACL file is configured: everything allowed. */
    public static final Acl ALLOW_ALL = new Acl("", null, null);

    private record Compiled(AclFile.Access access, TopicFilter filter, int line) {
    }

    /** Where the rules come from, for the log: "auth.acl-file", "auth.jwt.acl-claim", ... */
    private final String source;
    private final List<Compiled> own;
    private final List<Compiled> patterns;
    /** Rules that must allow too (a token's beside the ACL file's), or null. */
    private final Acl also;
    private final Verdict allowed;
    private final Verdict nothingAllows;

    Acl(List<Rule> own, List<Rule> patterns) {
        this("auth.acl-file", own, patterns);
    }

    Acl(String source, List<Rule> own, List<Rule> patterns) {
        this(source, own == null ? null : compile(own), patterns == null ? null : compile(patterns), null);
    }

    private Acl(String source, List<Compiled> own, List<Compiled> patterns, Acl also) {
        this.source = source;
        this.own = own;
        this.patterns = patterns;
        this.also = also;
        this.allowed = new Verdict(true, 0, source);
        this.nothingAllows = new Verdict(false, 0, source);
    }

    /** One client's rules from elsewhere than the ACL file (a token's claim, a hook's answer): what they do not allow is denied. */
    public static Acl of(String source, List<Rule> rules) {
        return new Acl(source, rules, List.of());
    }

    /** What both this and {@code other} allow (null: this alone). */
    public Acl and(Acl other) {
        if (other == null || other.allowsAll()) {
            return this;
        }
        if (allowsAll()) {
            return other;
        }
        return new Acl(source, own, patterns, also == null ? other : also.and(other));
    }

    private static List<Compiled> compile(List<Rule> rules) {
        return rules.stream().map(r -> new Compiled(r.access(), TopicFilter.of(r.topic()), r.line())).toList();
    }

    /** The decision, the rules it came from and the line (or position) of the rule that made it (0: no rule matched), for the log. */
    public record Verdict(boolean allowed, int line, String source) {
        public Verdict(boolean allowed, int line) {
            this(allowed, line, "auth.acl-file");
        }

        /** E.g. "auth.acl-file line 3" or "auth.acl-file: no rule allows it"; a line below 0: the source says it all. */
        public String rule() {
            return line < 0 ? source : source + (line == 0 ? (allowed ? "" : ": no rule allows it") : " line " + line);
        }
    }

    public boolean allowsAll() {
        return own == null;
    }

    public Verdict publish(String topic) {
        return topic(TopicName.of(topic), false);
    }

    /** Whether a message on {@code topic} may be delivered to this client. */
    public Verdict read(String topic) {
        return topic(TopicName.of(topic), true);
    }

    /** Checked for every delivery under an ACL file: no allocation but the verdict of a matching rule. */
    private Verdict topic(TopicName topic, boolean read) {
        if (own == null) {
            return allowed;
        }
        Verdict v = topic(own, topic, read);
        v = v != null ? v : (v = topic(patterns, topic, read)) != null ? v : nothingAllows;
        return !v.allowed() || also == null ? v : also.topic(topic, read);
    }

    /** One group's decision: a matching deny, then a matching allow, else null (the next group decides). */
    private Verdict topic(List<Compiled> group, TopicName topic, boolean read) {
        for (Compiled c : group) {
            if ((read ? c.access.denyRead : c.access.denyWrite) && c.filter.matches(topic)) {
                return new Verdict(false, c.line, source);
            }
        }
        for (Compiled c : group) {
            if ((read ? c.access.read : c.access.write) && c.filter.matches(topic)) {
                return new Verdict(true, c.line, source);
            }
        }
        return null;
    }

    /** Whether {@code filter} (without its $share/group/ prefix) may be subscribed to. */
    public Verdict subscribe(TopicFilter filter) {
        if (own == null) {
            return allowed;
        }
        Verdict v = subscribeHere(filter.levels());
        return !v.allowed() || also == null ? v : also.subscribe(filter);
    }

    private Verdict subscribeHere(List<String> f) {
        for (List<Compiled> group : List.of(own, patterns)) {
            for (Compiled c : group) {
                if (c.access.denyRead && covers(c.filter.levels(), f)) {
                    return new Verdict(false, c.line, source);
                }
            }
            for (Compiled c : group) {
                if (c.access.read && covers(c.filter.levels(), f)) {
                    return new Verdict(true, c.line, source);
                }
            }
        }
        return nothingAllows;
    }

    /** Whether every topic that filter {@code f} matches is matched by rule {@code r}. */
    static boolean covers(List<String> r, List<String> f) {
        // [MQTT-4.7.2-1] a rule starting with a wildcard matches no $ topic, so it covers no $ filter.
        if (f.get(0).startsWith("$") && (r.get(0).equals("+") || r.get(0).equals("#"))) {
            return false;
        }
        for (int i = 0; i < r.size(); i++) {
            String rl = r.get(i);
            if (rl.equals("#")) {
                return true;
            }
            if (i >= f.size()) {
                return false;
            }
            String fl = f.get(i);
            if (fl.equals("#")) {
                return false; // f goes on to any depth; r stops or constrains
            }
            if (rl.equals("+")) {
                continue;
            }
            if (fl.equals("+") || !rl.equals(fl)) {
                return false;
            }
        }
        // r ended with no '#': f must end too, or go on only by a '#' that... would match deeper topics: no.
        return f.size() == r.size();
    }
}
