package io.starling;

import io.starling.config.BrokerConfig;
import io.starling.config.ConfigException;
import io.starling.config.ConfigLoader;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar starling-broker.jar [--config FILE]}: starts one node. */
public final class Main {
    /**
     * Held here because java.util.logging keeps loggers only weakly: a level set on a logger nobody
     * references is lost when it is garbage collected.
     */
    private static java.util.logging.Logger hazelcastLog;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", ShutdownLogManager.class.getName());
        }
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n");
        }
        quietHazelcast();
        Logger log = LoggerFactory.getLogger(Main.class);
        if (args.length > 0 && args[0].equals("passwd")) {
            io.starling.auth.PasswdCommand.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                configFile = Path.of(args[++i]);
            } else if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println("usage: java -jar starling-broker.jar [--config FILE]");
                System.out.println("       java -jar starling-broker.jar passwd [options] passwordfile username  "
                        + "(mosquitto_passwd's options; passwd -h lists them)");
                System.out.println("Every key can also be set as an environment variable:");
                BrokerConfig.KEYS.values().forEach(k -> System.out.printf("  %-40s %-45s default %s%n",
                        k.name(), k.envName(), k.defaultValue()));
                return;
            } else {
                System.err.println("unknown argument '" + args[i] + "'; usage: java -jar starling-broker.jar [--config FILE]");
                System.exit(2);
            }
        }
        BrokerConfig config;
        try {
            config = ConfigLoader.load(configFile, System.getenv());
        } catch (ConfigException e) {
            System.err.println("starling: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        log.info("effective configuration: {}", config);
        for (io.starling.config.ListenerConfig l : config.listeners()) {
            if (!l.isLoopback() && l.allowAnonymous()) {
                log.warn("the {} listener on {} is not loopback and accepts anonymous clients", l.name(), l.host());
            }
        }
        Broker broker;
        try {
            broker = Broker.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.error("starling failed to start: {}", e.getCause() != null ? e.getCause().toString() : e.toString());
            System.exit(1);
            return;
        }
        for (io.starling.config.ListenerConfig l : broker.config().listeners()) {
            log.info("starling {} listening for MQTT ({}) on {}:{}{}", Broker.VERSION, l.name(), l.host(), l.port(),
                    l.path() == null ? "" : l.path());
        }
        broker.watchedFiles().reloadOnSighup();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                broker.leave(10_000).toCompletionStage().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
                log.info("left the cluster");
            } finally {
                ShutdownLogManager.leaveDone();
            }
        }));
    }

    /**
     * Hazelcast logs every connection, partition migration and state change at INFO, which buries
     * the node's own lines; its warnings and errors still show. Our cluster: lines (membership) come
     * from io.starling loggers and stay. A user who configures java.util.logging decides alone.
     */
    private static void quietHazelcast() {
        if (System.getProperty("java.util.logging.config.file") == null
                && System.getProperty("java.util.logging.config.class") == null) {
            hazelcastLog = java.util.logging.Logger.getLogger("com.hazelcast");
            hazelcastLog.setLevel(Level.WARNING);
        }
    }
}
