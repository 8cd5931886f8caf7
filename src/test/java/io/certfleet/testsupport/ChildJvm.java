package io.certfleet.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real launcher ({@code java -cp <test classpath> io.certfleet.cli.Main ...}) in a child process, with its
 * own environment, JVM options and captured stdout/stderr: what an operator's shell would do, so environment
 * variables, exit codes and {@code kill -9} are real.
 */
public final class ChildJvm {
    /** A finished child: exit code and everything it printed. */
    public record Result(int exitCode, String out, String err) {
    }

    private final List<String> jvmOptions = new ArrayList<>(List.of("-Djdk.httpclient.allowRestrictedHeaders=host"));
    private final Map<String, String> env;
    private final List<String> args = new ArrayList<>();
    private java.util.Optional<Path> jar = java.util.Optional.empty();
    private Path stdout;
    private Path stderr;

    private ChildJvm(Map<String, String> env) {
        this.env = env;
    }

    /** A child whose environment is this one's, with every {@code CERTFLEET_*} variable removed, plus {@code env}. */
    public static ChildJvm of(Map<String, String> env) {
        return new ChildJvm(env);
    }

    public ChildJvm jvm(String... options) {
        jvmOptions.addAll(List.of(options));
        return this;
    }

    public ChildJvm overrides(Map<String, String> overrides) {
        overrides.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
        return this;
    }

    /**
     * Runs the packaged launcher jar ({@code target/certfleet.jar}, what {@code bin/certfleet} runs) instead of the
     * test class path, if it is at least as new as every compiled class ({@code mvn verify} packages before the
     * integration tests; an IDE run may not). Only classes from jars can go into a class-data archive
     * ({@code -XX:SharedArchiveFile}), which starts a child about a second faster.
     *
     * @return whether the jar is used
     */
    public boolean packagedJarIfFresh() throws IOException {
        Path j = Path.of("target", "certfleet.jar");
        Path classes = Path.of("target", "classes");
        if (!Files.isRegularFile(j) || !Files.isDirectory(classes)) {
            return false;
        }
        java.nio.file.attribute.FileTime built = Files.getLastModifiedTime(j);
        try (var files = Files.walk(classes)) {
            if (files.filter(Files::isRegularFile).anyMatch(f -> lastModified(f).compareTo(built) > 0)) {
                return false;
            }
        }
        jar = java.util.Optional.of(j);
        return true;
    }

    private static java.nio.file.attribute.FileTime lastModified(Path f) {
        try {
            return Files.getLastModifiedTime(f);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public ChildJvm args(String... more) {
        args.addAll(List.of(more));
        return this;
    }

    /** Starts the child; its output goes to temporary files read by {@link #finish}. */
    public Process start() throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        if (jar.isPresent()) {
            cmd.addAll(List.of("-jar", jar.get().toString()));
        } else {
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.certfleet.cli.Main"));
        }
        cmd.addAll(args);
        stdout = Files.createTempFile("certfleet-child", ".out");
        stderr = Files.createTempFile("certfleet-child", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("CERTFLEET_"));
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs the child to its end (killing it after {@code timeout}) and returns what it did. */
    public Result run(Duration timeout) throws IOException, InterruptedException {
        Process p = start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("the child did not finish in " + timeout + "; stderr:\n" + stderrSoFar());
        }
        return finish(p);
    }

    /** The result of a child that has ended; deletes the captured output files. */
    public Result finish(Process p) throws IOException {
        Result r = new Result(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                Files.readString(stderr, StandardCharsets.UTF_8));
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
        return r;
    }

    /** What the running child has written to stderr so far. */
    public String stderrSoFar() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }

    public String stdoutSoFar() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }
}
