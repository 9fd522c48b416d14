package io.pgbailiff.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL client program (psql, pgbench) run as a separate OS process, with its
 * output captured in temporary files and a clean libpq environment: every inherited
 * {@code PG*} variable is removed, {@code PGCONNECT_TIMEOUT} is 5 seconds and messages are in
 * the C locale with UTF-8 client encoding. Closing it kills the process if it is still running.
 */
final class ClientProcess implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private ClientProcess(List<String> command, Process process, Path stdout, Path stderr) {
        this.command = command;
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** The executable of that name on the {@code PATH}, if there is one. */
    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Starts the program with those arguments and extra environment variables; stdin is /dev/null. */
    static ClientProcess start(Path executable, Map<String, String> env, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("LC_") || k.equals("LANG")
                || k.equals("PSQLRC") || k.equals("PAGER") || k.equals("PSQL_PAGER"));
        environment.put("LC_ALL", "C");
        environment.put("PGCONNECT_TIMEOUT", "5");
        environment.put("PGCLIENTENCODING", "UTF8");
        environment.putAll(env);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("pgbailiff-it-client-", ".out");
            err = Files.createTempFile("pgbailiff-it-client-", ".err");
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            return new ClientProcess(command, pb.start(), out, err);
        } catch (IOException e) {
            deleteQuietly(out);
            deleteQuietly(err);
            throw new UncheckedIOException("could not start " + command, e);
        }
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    /** Waits for the process to end; false if it was still running at the timeout. */
    boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits for the process to end, failing (with its output so far) if it runs longer than the timeout. */
    ClientProcess awaitExit(Duration timeout) {
        if (!waitFor(timeout)) {
            throw new AssertionError("still running after " + timeout.toMillis() + " ms: " + describe());
        }
        return this;
    }

    /** Runs to completion within the timeout and fails unless it exited with 0. */
    ClientProcess awaitSuccess(Duration timeout) {
        awaitExit(timeout);
        if (process.exitValue() != 0) {
            throw new AssertionError("failed: " + describe());
        }
        return this;
    }

    int exitCode() {
        return process.exitValue();
    }

    String stdout() {
        return read(stdout);
    }

    String stderr() {
        return read(stderr);
    }

    /** The command, its state and its output, for failure messages. */
    String describe() {
        String state = process.isAlive() ? "running" : "exit code " + process.exitValue();
        return String.join(" ", command) + " (" + state + ")\n--- stdout:\n" + stdout() + "\n--- stderr:\n" + stderr();
    }

    /** Sends the process a signal with {@code kill}, e.g. "INT". */
    void signal(String signal) {
        signal(process.pid(), signal);
    }

    /** Sends a process a signal with {@code kill}, e.g. "KILL". */
    static void signal(long pid, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                kill.destroyForcibly();
                throw new AssertionError("kill -" + signal + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deleteQuietly(stdout);
        deleteQuietly(stderr);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file
            }
        }
    }
}
