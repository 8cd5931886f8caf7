package io.certfleet.model;

import java.util.List;
import java.util.Objects;

/**
 * What one authoritative nameserver answered, asked directly for the CAA set of one level (the nameserver sweep).
 *
 * @param level      the name that was asked about
 * @param zone       the zone whose nameservers were asked
 * @param nameserver the nameserver's host name (from the NS set)
 * @param address    the address that was asked, {@code ip:port}
 * @param outcome    {@code NOERROR}, {@code NXDOMAIN}, another rcode, {@code TIMEOUT}, {@code TRUNCATED},
 *                   {@code NOT_AUTHORITATIVE} or {@code ERROR}
 * @param records    the CAA (and CNAME) records in the answer, as presentation text, sorted
 */
public record NameserverAnswer(String level, String zone, String nameserver, String address, String outcome,
                               List<String> records) {
    public NameserverAnswer {
        Objects.requireNonNull(level);
        Objects.requireNonNull(zone);
        Objects.requireNonNull(nameserver);
        Objects.requireNonNull(address);
        Objects.requireNonNull(outcome);
        records = List.copyOf(records);
    }

    /** True when the server gave a usable answer (the name exists or not); false for failures. */
    public boolean answered() {
        return outcome.equals("NOERROR") || outcome.equals("NXDOMAIN");
    }
}
