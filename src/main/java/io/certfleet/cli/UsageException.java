package io.certfleet.cli;

/** A command-line value that is wrong in a way picocli cannot check (exit code 2). */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
