package io.certfleet.cli;

/**
 * Whether progress lines may be drawn on standard error. {@code bin/certfleet} tells the JVM whether stderr is a
 * terminal ({@code -Dcertfleet.stderr-tty=true|false}, from {@code [ -t 2 ]}), because Java 17 can only tell
 * whether stdin and stdout both are ({@link System#console()}), and {@code precheck --format json > out.jsonl}
 * redirects stdout while the operator still watches stderr.
 */
final class Terminal {

    static final String PROPERTY = "certfleet.stderr-tty";

    private Terminal() {
    }

    static boolean stderrIsTerminal() {
        String told = System.getProperty(PROPERTY);
        if (told != null) {
            return Boolean.parseBoolean(told);
        }
        return System.console() != null;
    }
}
