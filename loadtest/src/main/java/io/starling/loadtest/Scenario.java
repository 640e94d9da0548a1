package io.starling.loadtest;

/** The shapes of load the generator knows; each is described in loadtest/README.md. */
public enum Scenario {
    P2P("p2p"),
    FAN_IN("fan-in"),
    FAN_OUT("fan-out"),
    SHARED("shared"),
    CONNECT_STORM("connect-storm"),
    IDLE("idle"),
    CROSS_NODE("cross-node");

    private final String cliName;

    Scenario(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** True for the scenarios that publish messages (the others only connect). */
    public boolean publishes() {
        return this != CONNECT_STORM && this != IDLE;
    }

    /** @return the scenario with this command-line name, or null */
    public static Scenario byName(String name) {
        for (Scenario s : values()) {
            if (s.cliName.equals(name)) {
                return s;
            }
        }
        return null;
    }
}
