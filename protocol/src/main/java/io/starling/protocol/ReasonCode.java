package io.starling.protocol;

/** MQTT 5.0 reason codes (spec 2.4) and the 3.1.1 CONNACK return codes (spec 3.2.2.3). */
public final class ReasonCode {
    private ReasonCode() {
    }

    public static final int SUCCESS = 0x00;
    public static final int NORMAL_DISCONNECTION = 0x00;
    public static final int GRANTED_QOS_0 = 0x00;
    public static final int GRANTED_QOS_1 = 0x01;
    public static final int GRANTED_QOS_2 = 0x02;
    public static final int DISCONNECT_WITH_WILL = 0x04;
    public static final int NO_MATCHING_SUBSCRIBERS = 0x10;
    public static final int NO_SUBSCRIPTION_EXISTED = 0x11;
    public static final int CONTINUE_AUTHENTICATION = 0x18;
    public static final int REAUTHENTICATE = 0x19;
    public static final int UNSPECIFIED_ERROR = 0x80;
    public static final int MALFORMED_PACKET = 0x81;
    public static final int PROTOCOL_ERROR = 0x82;
    public static final int IMPLEMENTATION_SPECIFIC_ERROR = 0x83;
    public static final int UNSUPPORTED_PROTOCOL_VERSION = 0x84;
    public static final int CLIENT_IDENTIFIER_NOT_VALID = 0x85;
    public static final int BAD_USER_NAME_OR_PASSWORD = 0x86;
    public static final int NOT_AUTHORIZED = 0x87;
    public static final int SERVER_UNAVAILABLE = 0x88;
    public static final int SERVER_BUSY = 0x89;
    public static final int BANNED = 0x8A;
    public static final int SERVER_SHUTTING_DOWN = 0x8B;
    public static final int BAD_AUTHENTICATION_METHOD = 0x8C;
    public static final int KEEP_ALIVE_TIMEOUT = 0x8D;
    public static final int SESSION_TAKEN_OVER = 0x8E;
    public static final int TOPIC_FILTER_INVALID = 0x8F;
    public static final int TOPIC_NAME_INVALID = 0x90;
    public static final int PACKET_IDENTIFIER_IN_USE = 0x91;
    public static final int PACKET_IDENTIFIER_NOT_FOUND = 0x92;
    public static final int RECEIVE_MAXIMUM_EXCEEDED = 0x93;
    public static final int TOPIC_ALIAS_INVALID = 0x94;
    public static final int PACKET_TOO_LARGE = 0x95;
    public static final int MESSAGE_RATE_TOO_HIGH = 0x96;
    public static final int QUOTA_EXCEEDED = 0x97;
    public static final int ADMINISTRATIVE_ACTION = 0x98;
    public static final int PAYLOAD_FORMAT_INVALID = 0x99;
    public static final int RETAIN_NOT_SUPPORTED = 0x9A;
    public static final int QOS_NOT_SUPPORTED = 0x9B;
    public static final int USE_ANOTHER_SERVER = 0x9C;
    public static final int SERVER_MOVED = 0x9D;
    public static final int SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E;
    public static final int CONNECTION_RATE_EXCEEDED = 0x9F;
    public static final int MAXIMUM_CONNECT_TIME = 0xA0;
    public static final int SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1;
    public static final int WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2;

    // 3.1/3.1.1 CONNACK return codes.
    public static final int V3_ACCEPTED = 0x00;
    public static final int V3_UNACCEPTABLE_PROTOCOL_VERSION = 0x01;
    public static final int V3_IDENTIFIER_REJECTED = 0x02;
    public static final int V3_SERVER_UNAVAILABLE = 0x03;
    public static final int V3_BAD_USER_NAME_OR_PASSWORD = 0x04;
    public static final int V3_NOT_AUTHORIZED = 0x05;

    /** Maps a 5.0 CONNACK reason code to the nearest 3.1.1 return code. */
    public static int toV3ConnAck(int reasonCode) {
        return switch (reasonCode) {
            case SUCCESS -> V3_ACCEPTED;
            case UNSUPPORTED_PROTOCOL_VERSION -> V3_UNACCEPTABLE_PROTOCOL_VERSION;
            case CLIENT_IDENTIFIER_NOT_VALID -> V3_IDENTIFIER_REJECTED;
            case BAD_USER_NAME_OR_PASSWORD -> V3_BAD_USER_NAME_OR_PASSWORD;
            case NOT_AUTHORIZED, BANNED -> V3_NOT_AUTHORIZED;
            default -> V3_SERVER_UNAVAILABLE;
        };
    }

    /** A short lower-case name for logs and metric tags, e.g. "malformed_packet". */
    /** Whether {@code code} is one of DISCONNECT's reason codes (5.0 table 3.14.2.1, [MQTT-3.14.2-1]). */
    public static boolean isDisconnectCode(int code) {
        return switch (code) {
            case 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
                    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2 -> true;
            default -> false;
        };
    }

    public static String name(int reasonCode) {
        return switch (reasonCode) {
            case 0x00 -> "success";
            case 0x04 -> "disconnect_with_will";
            case 0x10 -> "no_matching_subscribers";
            case 0x11 -> "no_subscription_existed";
            case 0x80 -> "unspecified_error";
            case 0x81 -> "malformed_packet";
            case 0x82 -> "protocol_error";
            case 0x83 -> "implementation_specific_error";
            case 0x84 -> "unsupported_protocol_version";
            case 0x85 -> "client_identifier_not_valid";
            case 0x86 -> "bad_user_name_or_password";
            case 0x87 -> "not_authorized";
            case 0x88 -> "server_unavailable";
            case 0x89 -> "server_busy";
            case 0x8A -> "banned";
            case 0x8B -> "server_shutting_down";
            case 0x8C -> "bad_authentication_method";
            case 0x8D -> "keep_alive_timeout";
            case 0x8E -> "session_taken_over";
            case 0x8F -> "topic_filter_invalid";
            case 0x90 -> "topic_name_invalid";
            case 0x91 -> "packet_identifier_in_use";
            case 0x92 -> "packet_identifier_not_found";
            case 0x93 -> "receive_maximum_exceeded";
            case 0x94 -> "topic_alias_invalid";
            case 0x95 -> "packet_too_large";
            case 0x96 -> "message_rate_too_high";
            case 0x97 -> "quota_exceeded";
            case 0x98 -> "administrative_action";
            case 0x99 -> "payload_format_invalid";
            case 0x9A -> "retain_not_supported";
            case 0x9B -> "qos_not_supported";
            case 0x9C -> "use_another_server";
            case 0x9D -> "server_moved";
            case 0x9E -> "shared_subscriptions_not_supported";
            case 0x9F -> "connection_rate_exceeded";
            case 0xA0 -> "maximum_connect_time";
            case 0xA1 -> "subscription_identifiers_not_supported";
            case 0xA2 -> "wildcard_subscriptions_not_supported";
            default -> String.format("reason_0x%02x", reasonCode);
        };
    }
}
