package io.starling.loadtest;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar starling-loadtest.jar <scenario> [options]}: runs one scenario, prints a progress
 * line a second on stderr and the summary on stdout, optionally writes the result as JSON.
 *
 * <p>Exit codes: 0 the run completed (whatever it measured, losses included: at QoS 0 they may be
 * legitimate), 1 setup failed (a subscriber or publisher could not connect or subscribe, or no
 * client connected at all), 2 invalid command line, 3 the watchdog ended a run that overran its
 * bound.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, true));
    }

    /** Runs and returns the exit code; the tests call this without the watchdog. */
    public static int run(String[] args, PrintStream out, PrintStream err, boolean watchdog) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.println(Options.USAGE);
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.UsageException e) {
            err.println("starling-loadtest: " + e.getMessage());
            err.println(Options.USAGE);
            return 2;
        }
        if (watchdog) {
            startWatchdog(options, err);
        }
        err.println("starling-loadtest: " + options);
        Result result;
        try {
            result = new LoadRun(options, err).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("starling-loadtest: interrupted");
            return 1;
        } catch (RuntimeException e) {
            err.println("starling-loadtest: failed: " + e);
            return 1;
        }
        out.print(result.summary());
        if (options.json != null) {
            try {
                Path parent = options.json.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(options.json, result.toJson());
            } catch (IOException e) {
                err.println("starling-loadtest: cannot write " + options.json + ": " + e);
                return 1;
            }
        }
        return result.setupFailed() ? 1 : 0;
    }

    /**
     * The run is bounded by construction; this is the backstop should a bug make it hang: a daemon
     * thread that ends the process well after the longest the run may legitimately take.
     */
    private static void startWatchdog(Options o, PrintStream err) {
        long limitSeconds = 2L * LoadRun.SETUP_LIMIT_SECONDS + o.warmupSeconds + o.durationSeconds
                + o.drainSeconds + 120;
        Thread t = new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(limitSeconds);
            } catch (InterruptedException e) {
                return;
            }
            err.println("starling-loadtest: the run overran its " + limitSeconds + " s bound; exiting");
            Runtime.getRuntime().halt(3);
        }, "loadtest-watchdog");
        t.setDaemon(true);
        t.start();
    }
}
