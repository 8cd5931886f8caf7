package io.certfleet.cli;

import io.certfleet.app.Certfleet;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Apply database migrations (the daemon and every command also do this at start).")
final class MigrateCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Override
    public Integer call() {
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            System.out.println("database schema is up to date (" + app.database().jdbcUrl() + ")");
            return Main.OK;
        }
    }
}
