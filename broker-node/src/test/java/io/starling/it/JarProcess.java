package io.starling.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * The runnable jar started as its own process, the way a user starts it: {@code java -jar
 * target/starling-broker.jar}, configured through {@code STARLING_*} variables (none inherited
 * from the test's environment) and arguments. Its merged stdout and stderr are kept line by line
 * for waiting, assertions and failure messages. The jar exists in {@code mvn verify} (package runs
 * before integration-test); {@link #assumeBuilt()} skips a test when it does not.
 */
final class JarProcess implements AutoCloseable {
    static final Path JAR = Path.of("target", "starling-broker.jar");

    private final String name;
    private final Process process;
    private final List<String> lines = new ArrayList<>(); // guarded by this
    private boolean ended; // guarded by this: the output reached its end, the process is gone
    private int cursor; // guarded by this: the next line await(String) looks at

    private JarProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        Thread reader = new Thread(this::read, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    static void assumeBuilt() {
        Assumptions.assumeTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " not built (run mvn verify)");
    }

    static JarProcess start(Map<String, String> env, String... args) throws IOException {
        return start("broker", List.of(), env, args);
    }

    /** Starts the jar with JVM options (before {@code -jar}), exactly this STARLING_* environment and args. */
    static JarProcess start(String name, List<String> jvmOptions, Map<String, String> env, String... args)
            throws IOException {
        return start(name, List.of(), jvmOptions, env, args);
    }

    /**
     * As {@link #start(String, List, Map, String...)}, with {@code java} run by a launcher that
     * execs it, e.g. {@code ip netns exec NAMESPACE}: the process (its pid, its signals) is still java.
     */
    static JarProcess start(String name, List<String> launcher, List<String> jvmOptions, Map<String, String> env,
                            String... args) throws IOException {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("STARLING_"));
        pb.environment().putAll(env);
        // The metrics port defaults to 8080: every node a test starts gets a free one of its own instead.
        if (!env.containsKey("STARLING_METRICS_PORT") && !env.containsKey("STARLING_METRICS_ENABLED")) {
            pb.environment().put("STARLING_METRICS_PORT", String.valueOf(freeLoopbackPort()));
        }
        return new JarProcess(name, pb.start());
    }

    static int freeLoopbackPort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (this) {
                    lines.add(line);
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    String name() {
        return name;
    }

    Process process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    synchronized String output() {
        return String.join("\n", lines) + (lines.isEmpty() ? "" : "\n");
    }

    /** Waits for the next line (after the one the previous call returned) containing text; returns it. */
    synchronized String await(String text, int seconds) throws InterruptedException {
        String[] found = new String[1];
        awaitOutput("'" + text + "'", all -> {
            while (cursor < all.size()) {
                String line = all.get(cursor++);
                if (line.contains(text)) {
                    found[0] = line;
                    return true;
                }
            }
            return false;
        }, seconds);
        return found[0];
    }

    /**
     * Waits until a condition on all lines so far holds, checking again on every new line. Fails
     * with {@code what} and the whole output when the time runs out or the process ends first.
     */
    synchronized void awaitOutput(String what, Predicate<List<String>> condition, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.test(lines)) {
            if (ended) {
                fail(name + " exited (" + exitDescription() + ") before logging " + what + ":\n" + output());
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                fail(name + " logged no " + what + " within " + seconds + " s:\n" + output());
            }
            wait(left);
        }
    }

    private String exitDescription() throws InterruptedException {
        return process.waitFor(5, TimeUnit.SECONDS) ? "exit code " + process.exitValue() : "still running";
    }

    int exitCode(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            fail(name + " did not exit within " + seconds + " s:\n" + output());
        }
        awaitEnd();
        return process.exitValue();
    }

    /** SIGTERM: the node's shutdown hook closes it; fails if it has not exited within the time. */
    void stop(int seconds) throws InterruptedException {
        // Through the ProcessHandle: Process.destroy() also closes our ends of the child's pipes at
        // once, so everything the node logged while it left (its whole graceful leave) was lost.
        process.toHandle().destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(name + " did not stop within " + seconds + " s of SIGTERM:\n" + output());
        }
        awaitEnd();
    }

    /** SIGKILL: gone at once, no shutdown hook, as in a crash or an OOM kill. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        awaitEnd();
    }

    /**
     * SIGSTOP: the process stays, with its connections open, but answers nothing, as a frozen VM
     * or a host cut off the network looks to the others. A later {@link #kill()} still works.
     */
    void freeze() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-STOP", String.valueOf(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            fail("could not SIGSTOP " + name);
        }
    }

    /** Lets the reader take the last lines a process wrote before it exited. */
    private synchronized void awaitEnd() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!ended && System.nanoTime() < deadline) {
            wait(100);
        }
    }

    /** Stops the process however it can: SIGTERM, then SIGKILL after a few seconds. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
