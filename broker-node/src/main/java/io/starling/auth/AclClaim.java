package io.starling.auth;

import io.starling.auth.AclFile.Access;
import io.starling.auth.AclFile.Rule;
import io.starling.topic.InvalidTopicException;
import io.starling.topic.TopicFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A client's rights as a token's claim or an HTTP hook's answer carries them, in the two JSON
 * forms EMQX reads, so that tokens and hooks written for it work here:
 * <pre>
 * {"pub": ["devices/42/up"], "sub": ["devices/42/down/#"], "all": ["chat/#"]}
 * [{"permission": "allow", "action": "publish", "topic": "devices/42/up"},
 *  {"permission": "deny", "action": "subscribe", "topic": "devices/+/secret"}]
 * </pre>
 * Actions are publish (pub), subscribe (sub) and all; what no rule allows is denied, and in the
 * list form a deny that matches wins over any allow, as in an ACL file. A rule's number is its
 * position (1-based) in the list, or in the object's lists taken in the order pub, sub, all.
 */
public final class AclClaim {
    private AclClaim() {
    }

    /**
     * @param claim a JSON object or array already parsed (maps and lists)
     * @throws IllegalArgumentException saying what in the claim cannot be used
     */
    public static List<Rule> rules(Object claim) {
        List<Rule> rules = new ArrayList<>();
        if (claim instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (access(String.valueOf(e.getKey()), true) == null) {
                    throw new IllegalArgumentException("unknown key '" + e.getKey() + "' (pub, sub, all)");
                }
            }
            for (String key : List.of("pub", "publish", "sub", "subscribe", "all")) {
                Object topics = m.get(key);
                if (topics == null) {
                    continue;
                }
                if (!(topics instanceof List<?> list)) {
                    throw new IllegalArgumentException("'" + key + "' is not a list of topic filters");
                }
                for (Object t : list) {
                    rules.add(rule(access(key, true), t, rules.size() + 1));
                }
            }
        } else if (claim instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> r)) {
                    throw new IllegalArgumentException("rule " + (rules.size() + 1) + " is not an object");
                }
                Object permission = r.get("permission");
                boolean allow = "allow".equals(permission);
                if (!allow && !"deny".equals(permission)) {
                    throw new IllegalArgumentException("rule " + (rules.size() + 1) + ": permission is '" + permission
                            + "', not allow or deny");
                }
                Access a = access(String.valueOf(r.get("action")), allow);
                if (a == null) {
                    throw new IllegalArgumentException("rule " + (rules.size() + 1) + ": action is '" + r.get("action")
                            + "', not publish, subscribe or all");
                }
                rules.add(rule(a, r.get("topic"), rules.size() + 1));
            }
        } else {
            throw new IllegalArgumentException("neither an object nor a list");
        }
        return rules;
    }

    private static Access access(String action, boolean allow) {
        return switch (action.toLowerCase(Locale.ROOT)) {
            case "pub", "publish" -> allow ? Access.WRITE : Access.DENY_WRITE;
            case "sub", "subscribe" -> allow ? Access.READ : Access.DENY_READ;
            case "all" -> allow ? Access.READWRITE : Access.DENY;
            default -> null;
        };
    }

    private static Rule rule(Access access, Object topic, int n) {
        if (!(topic instanceof String t)) {
            throw new IllegalArgumentException("rule " + n + ": topic " + topic + " is not a string");
        }
        try {
            TopicFilter.of(t);
        } catch (InvalidTopicException e) {
            throw new IllegalArgumentException("rule " + n + ": '" + t + "' is not a valid topic filter: " + e.getMessage());
        }
        return new Rule(access, t, n);
    }
}
