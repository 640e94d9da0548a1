package io.starling.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * MQTT 5.0 properties of one packet (spec 2.2.2). A null field means "absent". The codec fills
 * one instance per decoded packet; the broker builds one per packet it sends. Instances are not
 * shared between threads once handed to the codec.
 */
public final class Properties {

    /** The empty property set. Never mutate it. */
    public static final Properties EMPTY = new Properties();

    /** A User Property (spec 3.1.2.11.8): a name/value pair, which may repeat. */
    public record UserProperty(String name, String value) {
    }

    public Integer payloadFormatIndicator;          // 0x01 byte
    public Long messageExpiryInterval;              // 0x02 four-byte integer
    public String contentType;                      // 0x03
    public String responseTopic;                    // 0x08
    public byte[] correlationData;                  // 0x09
    public List<Integer> subscriptionIdentifiers;   // 0x0B variable byte integer; may repeat in PUBLISH
    public Long sessionExpiryInterval;              // 0x11 four-byte integer
    public String assignedClientIdentifier;         // 0x12
    public Integer serverKeepAlive;                 // 0x13 two-byte integer
    public String authenticationMethod;             // 0x15
    public byte[] authenticationData;               // 0x16
    public Integer requestProblemInformation;       // 0x17 byte
    public Long willDelayInterval;                  // 0x18 four-byte integer
    public Integer requestResponseInformation;      // 0x19 byte
    public String responseInformation;              // 0x1A
    public String serverReference;                  // 0x1C
    public String reasonString;                     // 0x1F
    public Integer receiveMaximum;                  // 0x21 two-byte integer
    public Integer topicAliasMaximum;               // 0x22 two-byte integer
    public Integer topicAlias;                      // 0x23 two-byte integer
    public Integer maximumQos;                      // 0x24 byte
    public Integer retainAvailable;                 // 0x25 byte
    public List<UserProperty> userProperties;       // 0x26 string pair; may repeat
    public Long maximumPacketSize;                  // 0x27 four-byte integer
    public Integer wildcardSubscriptionAvailable;   // 0x28 byte
    public Integer subscriptionIdentifierAvailable; // 0x29 byte
    public Integer sharedSubscriptionAvailable;     // 0x2A byte

    public void addUserProperty(String name, String value) {
        if (userProperties == null) {
            userProperties = new ArrayList<>();
        }
        userProperties.add(new UserProperty(name, value));
    }

    public void addSubscriptionIdentifier(int id) {
        if (subscriptionIdentifiers == null) {
            subscriptionIdentifiers = new ArrayList<>();
        }
        subscriptionIdentifiers.add(id);
    }

    public List<UserProperty> userPropertiesOrEmpty() {
        return userProperties == null ? List.of() : userProperties;
    }

    /** The properties that are present, with a null list and an empty list reading the same. */
    private Object[] present() {
        return new Object[]{payloadFormatIndicator, messageExpiryInterval, contentType, responseTopic,
                correlationData, emptyToNull(subscriptionIdentifiers), sessionExpiryInterval,
                assignedClientIdentifier, serverKeepAlive, authenticationMethod, authenticationData,
                requestProblemInformation, willDelayInterval, requestResponseInformation, responseInformation,
                serverReference, reasonString, receiveMaximum, topicAliasMaximum, topicAlias, maximumQos,
                retainAvailable, emptyToNull(userProperties), maximumPacketSize, wildcardSubscriptionAvailable,
                subscriptionIdentifierAvailable, sharedSubscriptionAvailable};
    }

    private static List<?> emptyToNull(List<?> list) {
        return list == null || list.isEmpty() ? null : list;
    }

    /** Structural equality; byte arrays compare by content, a null list equals an empty one. */
    @Override
    public boolean equals(Object o) {
        return this == o || (o instanceof Properties other && Arrays.deepEquals(present(), other.present()));
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(present());
    }

    /** Lists the present properties, for logs and test failures. */
    @Override
    public String toString() {
        String[] names = {"payloadFormatIndicator", "messageExpiryInterval", "contentType", "responseTopic",
                "correlationData", "subscriptionIdentifiers", "sessionExpiryInterval", "assignedClientIdentifier",
                "serverKeepAlive", "authenticationMethod", "authenticationData", "requestProblemInformation",
                "willDelayInterval", "requestResponseInformation", "responseInformation", "serverReference",
                "reasonString", "receiveMaximum", "topicAliasMaximum", "topicAlias", "maximumQos", "retainAvailable",
                "userProperties", "maximumPacketSize", "wildcardSubscriptionAvailable",
                "subscriptionIdentifierAvailable", "sharedSubscriptionAvailable"};
        Object[] values = present();
        StringBuilder sb = new StringBuilder("Properties{");
        String sep = "";
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                Object v = values[i] instanceof byte[] b ? Arrays.toString(b) : values[i];
                sb.append(sep).append(names[i]).append('=').append(Objects.toString(v));
                sep = ", ";
            }
        }
        return sb.append('}').toString();
    }
}
