package io.certfleet.cli;

import io.certfleet.app.Certfleet;
import io.certfleet.app.Daemon;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run certfleet: migrate, start the schedule, serve until SIGTERM, then stop in order.",
                "Starts the embedded PostgreSQL when db.url is not set."})
final class DaemonCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Override
    public Integer call() throws InterruptedException {
        long t0 = System.nanoTime();
        Certfleet app = Certfleet.openDaemon(main.loadSettings());
        Daemon.runUntilStopped(app, t0);
        return Main.OK;
    }
}
