package io.certfleet.cli;

import io.certfleet.app.Certfleet;
import io.certfleet.model.DomainName;
import io.certfleet.model.InvalidDomainNameException;
import io.certfleet.store.LimitStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "release", mixinStandardHelpOptions = true,
        description = {"Put quarantined or held names back in the queue now, after their cause was fixed: names the "
                + "pause guard stopped (PAUSE_GUARD), names Let's Encrypt paused (CA_PAUSED, unpause them at the URL "
                + "in their detail first), or any other. Their count of failed authorizations in a row and their "
                + "quarantine backoff start again from zero. Exit 1 when a name was not quarantined or held."})
final class ReleaseCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "NAME", description = "names to release (as imported; IDNs are converted)")
    List<String> names = new ArrayList<>();

    @Option(names = "--reason", paramLabel = "CODE",
            description = "release every quarantined or held name with this reason code, e.g. PAUSE_GUARD")
    String reason;

    @Override
    public Integer call() {
        if (names.isEmpty() && reason == null) {
            throw new UsageException("name the names to release, or --reason CODE (e.g. --reason PAUSE_GUARD)");
        }
        Set<String> identifiers = new LinkedHashSet<>();
        for (String n : names) {
            try {
                identifiers.add(DomainName.parse(n).identifier());
            } catch (InvalidDomainNameException e) {
                throw new UsageException("'" + n + "' is not a domain name: " + e.getMessage());
            }
        }
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            List<LimitStore.Released> released = new LimitStore(app.store()).release(identifiers,
                    Optional.ofNullable(reason));
            for (LimitStore.Released r : released) {
                System.out.println("released " + r.identifier() + " (was " + Optional.ofNullable(r.previousReason()).orElse("-") + ")");
                identifiers.remove(r.identifier());
            }
            identifiers.forEach(n -> System.err.println(n + ": not released: unknown, or neither quarantined nor held"));
            System.out.println(released.size() + " name(s) released; the next run orders them");
            return identifiers.isEmpty() ? Main.OK : Main.PROBLEMS;
        }
    }
}
