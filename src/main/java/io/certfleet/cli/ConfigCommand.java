package io.certfleet.cli;

import io.certfleet.config.LoadedSettings;
import io.certfleet.config.SettingsLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "config", mixinStandardHelpOptions = true,
        description = {"Validate the configuration and print the effective values (secrets masked).",
                "--example prints a configuration file with every key, its default and its reason."})
final class ConfigCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--example", description = "print the example configuration file")
    boolean example;

    @Override
    public Integer call() {
        if (example) {
            System.out.print(SettingsLoader.exampleFile());
            return Main.OK;
        }
        LoadedSettings s = main.loadSettings();
        s.maskedDump().forEach(System.out::println);
        return Main.OK;
    }
}
