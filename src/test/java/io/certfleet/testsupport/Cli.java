package io.certfleet.testsupport;

import io.certfleet.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the real command line in this JVM with captured stdout and stderr. */
public final class Cli {
    public record Result(int exitCode, String out, String err) {
    }

    private Cli() {
    }

    public static synchronized Result run(Map<String, String> overrides, InputStream stdin, String... args) {
        List<String> all = new ArrayList<>();
        overrides.forEach((k, v) -> {
            all.add("--set");
            all.add(k + "=" + v);
        });
        all.addAll(List.of(args));
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            if (stdin != null) {
                System.setIn(stdin);
            }
            int code = Main.run(all.toArray(String[]::new));
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }
}
