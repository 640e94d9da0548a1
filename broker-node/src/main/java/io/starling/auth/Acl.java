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
    public static final Acl ALLOW_ALL = new Acl(null, null);

    private record Compiled(AclFile.Access access, TopicFilter filter, int line) {
    }

    private final List<Compiled> own;
    private final List<Compiled> patterns;

    Acl(List<Rule> own, List<Rule> patterns) {
        this.own = own == null ? null : compile(own);
        this.patterns = patterns == null ? null : compile(patterns);
    }

    private static List<Compiled> compile(List<Rule> rules) {
        return rules.stream().map(r -> new Compiled(r.access(), TopicFilter.of(r.topic()), r.line())).toList();
    }

    /** The decision and the line of the rule that made it (0: no rule matched), for the log. */
    public record Verdict(boolean allowed, int line) {
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

    private static final Verdict ALLOWED = new Verdict(true, 0);
    private static final Verdict NOTHING_ALLOWS = new Verdict(false, 0);

    /** Checked for every delivery under an ACL file: no allocation but the verdict of a matching rule. */
    private Verdict topic(TopicName topic, boolean read) {
        if (own == null) {
            return ALLOWED;
        }
        Verdict v = topic(own, topic, read);
        return v != null ? v : (v = topic(patterns, topic, read)) != null ? v : NOTHING_ALLOWS;
    }

    /** One group's decision: a matching deny, then a matching allow, else null (the next group decides). */
    private static Verdict topic(List<Compiled> group, TopicName topic, boolean read) {
        for (Compiled c : group) {
            if (c.access == AclFile.Access.DENY && c.filter.matches(topic)) {
                return new Verdict(false, c.line);
            }
        }
        for (Compiled c : group) {
            if ((read ? c.access.read : c.access.write) && c.filter.matches(topic)) {
                return new Verdict(true, c.line);
            }
        }
        return null;
    }

    /** Whether {@code filter} (without its $share/group/ prefix) may be subscribed to. */
    public Verdict subscribe(TopicFilter filter) {
        if (own == null) {
            return new Verdict(true, 0);
        }
        List<String> f = filter.levels();
        for (List<Compiled> group : List.of(own, patterns)) {
            for (Compiled c : group) {
                if (c.access == AclFile.Access.DENY && covers(c.filter.levels(), f)) {
                    return new Verdict(false, c.line);
                }
            }
            for (Compiled c : group) {
                if (c.access.read && covers(c.filter.levels(), f)) {
                    return new Verdict(true, c.line);
                }
            }
        }
        return new Verdict(false, 0);
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
