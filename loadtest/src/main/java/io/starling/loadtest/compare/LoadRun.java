package io.starling.loadtest.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The load generator as a child process: its own JVM, the same for both brokers. */
final class LoadRun {
    private final String java;
    private final Path jar;
    private final Path workDir;

    LoadRun(String java, Path jar, Path workDir) {
        this.java = java;
        this.jar = jar;
        this.workDir = workDir;
    }

    /** The command line a reader can paste, the JSON file left out. */
    String commandLine(List<String> args) {
        return "java -jar loadtest/target/starling-loadtest.jar " + String.join(" ", args);
    }

    Process start(List<String> args, Path json, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java, "-jar", jar.toString()));
        cmd.addAll(args);
        cmd.add("--json");
        cmd.add(json.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Runs to completion (bounded by the run's own duration plus set-up and drain) and returns its result. */
    Map<String, String> run(List<String> args, int durationSeconds) throws IOException, InterruptedException {
        Path json = Files.createTempFile(workDir, "result", ".json");
        Path log = Files.createTempFile(workDir, "loadgen", ".log");
        Process p = start(args, json, log);
        return finish(p, json, log, durationSeconds + 180);
    }

    Map<String, String> finish(Process p, Path json, Path log, int timeoutSeconds) throws IOException, InterruptedException {
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("the load generator did not finish within " + timeoutSeconds + " s; log: " + log);
        }
        if (p.exitValue() != 0 || Files.size(json) == 0) {
            throw new IOException("the load generator failed (exit " + p.exitValue() + "): "
                    + tail(Files.readString(log)));
        }
        return FlatJson.parse(Files.readString(json));
    }

    private static String tail(String s) {
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }
}
