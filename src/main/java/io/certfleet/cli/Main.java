package io.certfleet.cli;

import io.certfleet.config.ConfigException;
import io.certfleet.config.LoadedSettings;
import io.certfleet.config.SettingsLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code certfleet}: the command line. Exit codes: 0 ok, 1 the command's work found problems, 2 usage or
 * configuration error.
 */
@Command(name = "certfleet", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Issues Let's Encrypt SAN certificates for many domains without letting one bad name sink an order.",
        subcommands = {MigrateCommand.class, ImportCommand.class, StatusCommand.class, DaemonCommand.class,
                DbUrlCommand.class, ConfigCommand.class, PrecheckCommand.class, RunCommand.class,
                CertsCommand.class, ExportCommand.class, PlanCommand.class, ReportCommand.class, KeysCommand.class,
                ReleaseCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    public static final int OK = 0;
    public static final int PROBLEMS = 1;
    public static final int USAGE = 2;

    @Option(names = "--config", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "configuration file (Java properties); default: $CERTFLEET_CONFIG, else "
                    + "./config/certfleet.properties if it exists, else built-in defaults")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", scope = CommandLine.ScopeType.INHERIT,
            description = "override one configuration key (repeatable); beats the file and the environment")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** Loads and validates the configuration for a subcommand. */
    LoadedSettings loadSettings() {
        Optional<Path> file = Optional.ofNullable(config)
                .or(() -> Optional.ofNullable(System.getenv("CERTFLEET_CONFIG")).filter(s -> !s.isBlank()).map(Path::of))
                .or(() -> Optional.of(Path.of("config", "certfleet.properties")).filter(Files::isRegularFile));
        return SettingsLoader.load(file, System.getenv(), overrides);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        Main main = new Main();
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine cl = new CommandLine(main, new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == PrecheckCommand.class) {
                    // --account-uri defaults to the stored account of --environment, if a database is reachable
                    // and every other flag to the precheck.* settings (--config, CERTFLEET_*, --set)
                    return cls.cast(new PrecheckCommand(env -> io.certfleet.store.AccountStore.lookupAccountUrl(
                            main.loadSettings().settings().database(), io.certfleet.model.CaEnvironment.fromWire(env)),
                            () -> main.loadSettings().settings().precheck()));
                }
                return defaults.create(cls);
            }
        });
        cl.setExitCodeExceptionMapper(e -> e instanceof ConfigException ? USAGE : PROBLEMS);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException) {
                cmd.getErr().println("certfleet: configuration error: " + e.getMessage());
                return USAGE;
            }
            if (e instanceof UsageException) {
                cmd.getErr().println("certfleet " + cmd.getCommandName() + ": " + e.getMessage());
                return USAGE;
            }
            cmd.getErr().println("certfleet " + cmd.getCommandName() + ": " + describe(e));
            org.slf4j.LoggerFactory.getLogger(Main.class).debug("command failed", e);
            return PROBLEMS;
        });
        cl.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("certfleet: " + e.getMessage());
            e.getCommandLine().usage(e.getCommandLine().getErr());
            return USAGE;
        });
        return cl;
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable c = e.getCause();
        while (c != null && c != e) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
            e = c;
            c = c.getCause();
        }
        return sb.toString();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"certfleet " + (v == null ? "development build" : v)};
        }
    }
}
